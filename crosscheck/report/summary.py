"""The report folder of ``crosscheck run --report DIR`` (what ``make demo`` writes to ``out/``).

``DIR/summary.md`` holds, for every example, its verdict, the side-by-side table and a link to
``DIR/<example>.png``, the loss per step on every backend and the difference between them.
Every file is written to a temporary name and renamed, so an interrupted run leaves no half file.
"""

from __future__ import annotations

from pathlib import Path

from crosscheck import atomic
from crosscheck.report import plots, tables


def write(folder, reports) -> Path:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["# backprop-crosscheck: every shipped example on every backend", ""]
    first = reports[0]
    lines += ["Backends: " + ", ".join(f"{n} {v}" for n, v in first.versions.items()) + ".", ""]
    lines += ["| example | rule | steps | published figures | errata | backends agree | verdict |",
              "|---|---|---|---|---|---|---|"]
    for r in reports:
        expected = [c for c in r.checks if not c.figure.erratum]
        errata = [c for c in r.checks if c.figure.erratum]
        lines.append(
            f"| [{r.example.name}](#{r.example.name}) | {r.settings.rule} | {r.settings.steps} "
            f"| {sum(c.ok for c in expected)}/{len(expected)} hold "
            f"| {sum(c.ok for c in errata)}/{len(errata)} confirmed "
            f"| {'yes' if r.agree else 'NO'} (max diff {r.comparison.max_abs_diff:.1e}) "
            f"| {'OK' if r.ok else 'FAIL'} |")
    for r in reports:
        png = f"{r.example.name}.png"
        plots.training(r, folder / png)
        lines += ["", f"## {r.example.name}", "", r.example.title, "", "```text",
                  tables.render(r), "```", "", f"![loss per step on every backend]({png})"]
    target = folder / "summary.md"
    atomic.write_text(target, "\n".join(lines) + "\n")
    return target
