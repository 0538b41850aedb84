"""The tutorials' notebooks (docs/notebooks/): each .ipynb is its paired .py (jupytext), and each
runs from top to bottom in a real Jupyter kernel. Their cells assert the figures the tutorials
print and that NumPy, PyTorch and JAX agree; here the printed lines are checked too."""

from __future__ import annotations

from pathlib import Path

import pytest

nbclient = pytest.importorskip("nbclient")
jupytext = pytest.importorskip("jupytext")

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "notebooks"
NOTEBOOKS = ["seed002", "seed001", "seed000"]
# A line each notebook prints, worked by hand from the tutorial's numbers.
PRINTS = {"seed002": "Δ = -0.7963", "seed001": "who.T·e / chain rule: [13.587 13.587 13.587",
          "seed000": "[0.1   0.9  ]"}


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_and_its_text_form_are_the_same(name):
    notebook, text = jupytext.read(FOLDER / f"{name}.ipynb"), jupytext.read(FOLDER / f"{name}.py")
    pairs = list(zip(notebook.cells, text.cells, strict=True))
    stale = [n for n, (a, b) in enumerate(pairs)
             if (a.cell_type, a.source) != (b.cell_type, b.source)]
    assert not stale, (f"{name}.ipynb and {name}.py differ in cells {stale}: run "
                       f"jupytext --sync docs/notebooks/{name}.py")
    assert not any(cell.get("outputs") for cell in notebook.cells), "commit it without outputs"


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_notebook_runs_in_a_kernel(name, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    pytest.importorskip("jax")
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    notebook = jupytext.read(FOLDER / f"{name}.ipynb")
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      if cell.cell_type == "code" for output in cell.outputs)
    assert PRINTS[name] in printed, printed
