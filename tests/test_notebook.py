"""The verify report as a notebook shows it: rendered by a real Jupyter kernel (nbclient)."""

from __future__ import annotations

from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

STUDENTS = Path(__file__).parent / "students"


def test_the_report_renders_as_html_in_a_jupyter_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")        # no migration warning
    root = Path(__file__).resolve().parent.parent
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"import sys\nsys.path[:0] = [{str(root)!r}, {str(STUDENTS)!r}]\n"
        "import crosscheck, xor_student\n"
        "crosscheck.verify(xor_student.output_delta_is_error, example='xor', random=3)")])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = notebook.cells[0].outputs
    assert [o.output_type for o in outputs] == ["execute_result"], outputs
    html = outputs[0].data["text/html"]
    assert "<b style='color:#cf222e'>FAIL</b>" in html
    assert "Diagnosis: <code>missing_slope</code> (layer 1)" in html
    assert "<th>reference</th><th>yours</th>" in html
    assert outputs[0].data["text/plain"] == ("<VerifyReport output_delta_is_error on xor: FAIL, "
                                             "missing_slope in layer 1>")
