"""A Chinese font for matplotlib that works on a fresh machine.

Matplotlib ships no CJK font, so Chinese labels come out as empty boxes unless the system has one.
The PyPI package ``mplfonts`` ships Noto Sans CJK SC (SIL Open Font License); it is a dependency of
planner, and its font file is registered with matplotlib's font manager here (no system install, no
change to the user's matplotlibrc). A system CJK font is used when ``mplfonts`` is missing.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Final

from matplotlib import font_manager

#: Font families tried in order (the first installed one draws the labels).
CJK_FONTS: Final = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Microsoft YaHei",
    "PingFang SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Noto Sans CJK JP",
)


@functools.lru_cache(maxsize=1)
def register_cjk_font() -> str | None:
    """Register the bundled Noto Sans CJK SC of ``mplfonts`` and return the CJK family to use.

    Returns
    -------
    str or None
        The family name matplotlib knows the font by, or ``None`` when no CJK font is available.
    """
    try:
        import mplfonts

        path = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
        if path.is_file():
            font_manager.fontManager.addfont(str(path))
            return font_manager.FontProperties(fname=str(path)).get_name()
    except (ImportError, OSError, RuntimeError):  # pragma: no cover - depends on the machine
        pass
    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FONTS if f in installed), None)


def font_family() -> list[str]:
    """``font.sans-serif`` for planner's figures: the CJK font first, then DejaVu Sans."""
    cjk = register_cjk_font()
    installed = {f.name for f in font_manager.fontManager.ttflist}
    others = [f for f in CJK_FONTS if f in installed and f != cjk]
    return [*([cjk] if cjk else []), *others, "DejaVu Sans", "sans-serif"]
