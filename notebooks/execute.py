"""Execute the worked notebooks in place and save them with their outputs (run before committing).

    python notebooks/execute.py            # all four
    python notebooks/execute.py 03-trade-offs.ipynb

Each notebook runs top to bottom with ``nbclient`` on a ``python3`` kernel of this interpreter, from
the ``notebooks/`` folder, as when a planner opens it in Jupyter; a cell that fails stops the script
and leaves the notebook unchanged. Figures are saved as PNG (the inline backend), so the committed
notebooks show them on GitHub and in any viewer.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
CELL_TIMEOUT_S = 300


def _kernel_path(root: Path) -> Path:
    """A ``python3`` kernelspec that starts ipykernel on this interpreter (not one found elsewhere)."""
    spec_dir = root / "kernels" / "python3"
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (planner)",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return root


def execute(path: Path) -> None:
    """Run ``path`` and write it back with its outputs."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=CELL_TIMEOUT_S, kernel_name="python3", resources={"metadata": {"path": str(HERE)}}
    ).execute()
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)
    print(f"{path.name}: {sum(len(c.get('outputs', [])) for c in nb.cells)} outputs saved")


def main(names: list[str]) -> None:
    paths = [HERE / n for n in names] if names else sorted(HERE.glob("*.ipynb"))
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["JUPYTER_PATH"] = str(_kernel_path(Path(tmp)))
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
        for path in paths:
            execute(path)


if __name__ == "__main__":
    main(sys.argv[1:])
