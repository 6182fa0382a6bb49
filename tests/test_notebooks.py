"""The worked notebooks in ``notebooks/``: committed with their outputs (figures with Chinese labels),
and each one still runs top to bottom without an error.

The committed outputs are read as plain JSON: every code cell ran, in order, none failed, the figures
are PNG images, and no figure lost a Chinese character for want of a font (matplotlib then warns
"Glyph … missing from font(s)"). Each notebook is also executed here with ``nbclient`` on a kernel of
*this* interpreter (a ``python3`` kernelspec written to a temporary ``JUPYTER_PATH``, so a kernelspec
installed elsewhere cannot hijack it), from ``notebooks/``; the test compares only that it runs, not
its outputs (timings, temporary paths and solver times differ run to run). ``notebooks/execute.py``
writes the committed outputs.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = (
    "01-demo-county.ipynb",
    "02-bring-your-own-county.ipynb",
    "03-trade-offs.ipynb",
    "04-province-batch.ipynb",
)
CELL_TIMEOUT_S = 120


def test_every_notebook_is_listed() -> None:
    """The four notebooks exist, and no other notebook escapes the test."""
    on_disk = sorted(p.name for p in NOTEBOOK_DIR.glob("*.ipynb"))
    assert on_disk == sorted(NOTEBOOKS)


#: Notebooks that draw figures (matplotlib, saved as PNG).
FIGURES = {"01-demo-county.ipynb": 1, "03-trade-offs.ipynb": 2, "04-province-batch.ipynb": 1}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_with_outputs(name: str) -> None:
    """Every code cell ran in order without an error; figures are PNG with their Chinese labels drawn."""
    nb = json.loads((NOTEBOOK_DIR / name).read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    code_cells = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code_cells, f"{name} has no code cells"
    counts = [c.get("execution_count") for c in code_cells]
    assert counts == list(range(1, len(code_cells) + 1)), f"{name}: cells not run top to bottom: {counts}"
    outputs = [o for c in code_cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o["output_type"] == "error"], f"{name} was saved with an error"
    stderr = "".join("".join(o.get("text", "")) for o in outputs if o.get("name") == "stderr")
    assert "missing from font" not in stderr, f"{name}: a figure lost characters for want of a CJK font"
    pngs = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(pngs) == FIGURES.get(name, 0), f"{name}: {len(pngs)} figures"
    plotting = [c for c in code_cells if "plt.show()" in "".join(c["source"])]
    for cell in plotting:
        labels = re.findall(r"set_(?:title|xlabel|ylabel)\(\"([^\"]*)\"", "".join(cell["source"]))
        assert labels and all(re.search(r"[\u4e00-\u9fff]", t) for t in labels if t), (name, labels)
    markdown = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in markdown), f"{name} has no Chinese text"
    assert "English" in markdown, f"{name} has no English text"


@pytest.fixture(scope="module")
def kernel_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``python3`` kernelspec that starts ``ipykernel`` on the interpreter running the tests."""
    pytest.importorskip("ipykernel", reason="ipykernel is needed to execute the notebooks")
    root = tmp_path_factory.mktemp("jupyter")
    spec_dir = root / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (planner tests)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return root


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name: str, kernel_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The notebook runs top to bottom without an error, from the notebooks/ folder."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is needed to execute the notebooks")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is needed to execute the notebooks")
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_path))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' tempfile.mkdtemp() folders land here
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK_DIR / name, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError naming the cell on the first error
    seconds = time.perf_counter() - started
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: {errors[0].ename}: {errors[0].evalue}"
    ran = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count is not None for c in ran), f"{name}: some cells did not run"
    print(f"{name}: {seconds:.1f} s")
