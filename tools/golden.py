"""Golden files: the float64 results of every shipped example under every rule, on disk.

``tests/golden/<example>--<rule>.json`` holds what the NumPy reference computes (the numbers of
``crosscheck run --json``), the backend that computed them and the versions of every framework
installed when it was written. ``tests/test_golden.py`` checks that each backend still
reproduces them, so a framework upgrade that changes a number is reported with the example, the
backend and the quantity.
A chaotic run (``[chaotic_steps]`` of its example file) is stored over its first steps only.

Regenerate them (after a deliberate change) with ``make golden``, that is
``python -m tools.golden``: it says, file by file, what moved against the file it replaces (by
``crosscheck diff``'s comparison), then writes; ``--check`` only says.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import reference
from crosscheck import atomic, backends, examples
from crosscheck.report import as_json
from crosscheck.runs import diff
from crosscheck.runs import example as runs

GOLDEN_DIR = Path(__file__).resolve().parent.parent / "tests" / "golden"


def path_for(name: str, rule: str) -> Path:
    return GOLDEN_DIR / f"{name}--{rule}.json"


def record(name: str, rule: str) -> dict:
    """The golden record of one example under one rule, computed by the NumPy reference."""
    example = examples.load(examples.find(name))
    report = runs.run(example, {"numpy": reference}, rule=rule, dtype="float64",
                      steps=example.chaotic_steps.get(rule))
    loaded, _ = backends.defaults()
    versions = {name: loaded[name].version() if name in loaded else None
                for name in backends.BUILTIN}
    doc = as_json.run(report)
    return {"example": name, "rule": rule, "steps": doc["steps"], "backend": "numpy",
            "versions": versions,
            "results": {k: v for k, v in doc["backends"]["numpy"].items() if k != "version"}}


def write(path: Path, doc: dict) -> None:
    """Write the whole file or nothing (crosscheck.atomic), so Ctrl-C leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_text(path, json.dumps(doc, indent=1) + "\n")


def moved(target: Path, doc: dict) -> str:
    """What the new record changes against the file it replaces, in one line."""
    if not target.exists():
        return "new"
    report = diff.compare(diff.parse(json.loads(target.read_text()), str(target)),
                          diff.parse(doc, "new"), tolerance=0.0)
    new = sorted({entry.rsplit(" ", 1)[-1] for entry in report.only_in.get("B", [])})
    gone = sorted({entry.rsplit(" ", 1)[-1] for entry in report.only_in.get("A", [])})
    lines = [] if report.largest is None else [
        f"{report.moved} of {report.compared} numbers moved, the most by "
        f"{report.largest.in_ulps} ({report.largest.disagreement.place})"]
    lines += [f"new: {', '.join(new)}"] * bool(new) + [f"gone: {', '.join(gone)}"] * bool(gone)
    return "; ".join(lines) or "unchanged"


def main(argv=()) -> int:
    for path in examples.shipped():
        for rule in reference.RULES:
            target, doc = path_for(path.stem, rule), record(path.stem, rule)
            print(f"{target.name}: {moved(target, doc)}")
            if "--check" not in argv:
                write(target, doc)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
