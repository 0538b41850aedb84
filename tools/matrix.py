"""What moved between framework releases: the version matrix's results (``make matrix``,
noxfile.py) against those of the pinned releases, one row per session, as a Markdown table for
docs/regression.md.

    .venv/bin/python -m tools.matrix [out/matrix]

Each session leaves ``<framework>-<version>.tests`` (pytest's summary line) and
``<framework>-<version>.json`` (``crosscheck run --all --json``). A row says what the tests
said, then compares the session's results with the pinned release's by ``crosscheck diff``'s
comparison: how many numbers moved at all, the one that moved most in units in the last place,
and whether every array is still within the tolerance policy. A session whose backend failed to
run says why, from its JSON.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from crosscheck.runs import diff
from noxfile import PINNED

FOLDER = Path("out/matrix")
ROOT = Path(__file__).resolve().parent.parent
HEADER = ["| release | its tests | numbers that moved against the pinned release | the most "
          "| by the tolerance policy |", "|---|---|---|---|---|"]


def read(result: Path) -> dict:
    """A session's JSON; a framework that prints to stdout as it loads (PyTorch built against
    NumPy 1 warns about NumPy 2 there) leaves lines before it, which are skipped."""
    text = result.read_text()
    start = text.find("\n{") + 1 if not text.startswith("{") else 0
    return json.loads(text[start:])


def failure(result: Path) -> str | None:
    """Why the session's backends did not run, from its ``run --all --json``; None if they
    did."""
    try:
        doc = read(result)
        runs = doc["examples"] if "examples" in doc else [doc]
    except (OSError, ValueError, TypeError, KeyError):
        return "no result"
    for run in runs:
        for backend, why in run.get("failed", {}).items():
            return re.sub(r"\(\S*site-packages/", "(", f"{backend}: {why}").replace(
                f"{ROOT}{os.sep}", "")
    return None


def _only(side: diff.Side, backend: str) -> diff.Side:
    """The side's results of one backend (the session's framework; the others did not
    change)."""
    side.results = {key: value for key, value in side.results.items() if key[1] == backend}
    return side


def compared(result: Path, pinned: Path) -> list[str]:
    """The last three cells: what moved against the pinned release's results."""
    framework = result.stem.split("-", 1)[0]
    a, b = (_only(diff.parse(read(path), str(path)), framework) for path in (pinned, result))
    exact, judged = diff.compare(a, b, tolerance=0.0), diff.compare(a, b)
    largest = exact.largest
    most = (f"{largest.in_ulps} ({largest.backend} {largest.key.example}, "
            f"{largest.disagreement.place})" if largest else "-")
    verdict = "agree" if judged.ok else f"{len(judged.differences)} array(s) past the policy"
    return [f"{exact.moved} of {exact.compared}", most, verdict]


def row(folder: Path, framework: str, version: str) -> str:
    """One session against the pinned release of its framework."""
    name = f"{framework}-{version}"
    tests = folder / f"{name}.tests"
    summary = re.sub(r" in [\d.]+s.*$", "", tests.read_text().strip()) if tests.exists() \
        else "not run"
    why, pinned = failure(folder / f"{name}.json"), folder / f"{framework}-{PINNED[framework]}.json"
    if why:
        cells = [f"does not run: {why}", "-", "-"]
    elif version == PINNED[framework]:
        cells = ["(the pinned release)", "-", "-"]
    elif failure(pinned):
        cells = ["no result of the pinned release to compare with", "-", "-"]
    else:
        cells = compared(folder / f"{name}.json", pinned)
    return "| " + " | ".join([f"{framework} {version}", summary, *cells]) + " |"


def _newest_first(version: str) -> tuple[int, ...]:
    return tuple(-int(part) for part in re.findall(r"\d+", version))


def table(folder: Path) -> list[str]:
    """The Markdown table of every session in ``folder``: NumPy, JAX, PyTorch, newest first."""
    sessions = [path.stem.split("-", 1) for path in folder.glob("*.tests")]
    order = {framework: n for n, framework in enumerate(PINNED)}
    sessions.sort(key=lambda s: (order.get(s[0], len(order)), _newest_first(s[1])))
    return [*HEADER, *(row(folder, *session) for session in sessions)]


def main(argv) -> int:
    print("\n".join(table(Path(argv[0]) if argv else FOLDER)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
