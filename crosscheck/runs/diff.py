"""``crosscheck diff A.json B.json``: two result files compared, number by number.

A result file is what ``crosscheck run`` or ``check`` prints with ``--json`` (one example, or
``--all``), or a golden file of ``tests/golden/``. Every backend's result of every example on
one side is compared with the same backend's result on the other (another framework version,
another machine, another commit) by the one comparison (``crosscheck/compare``): by the
tolerance policy, each number against the magnitude of its terms for a shipped example, or,
with ``tolerance``, each array relative to its largest value. Versions and timings are never
differences; an example or a backend that only one side has is one.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crosscheck import examples
from crosscheck.compare.comparison import Comparison, Disagreement
from crosscheck.compare.magnitudes import magnitudes
from crosscheck.compare.quantities import REPORTED, Result
from crosscheck.compare.tolerances import FIRST_STEP, phase
from crosscheck.compare.tolerances import tolerance as policy
from crosscheck.report.as_json import read_result


class ResultFileError(ValueError):
    """A file that is not a result of crosscheck: one line, exit 2."""


@dataclass(frozen=True)
class Key:
    example: str
    rule: str
    dtype: str
    steps: int

    def __str__(self) -> str:
        return f"{self.example} [{self.rule}, {self.dtype}, {self.steps} step(s)]"


@dataclass
class Side:
    file: str
    results: dict[tuple[Key, str], Result]
    environment: dict


@dataclass(frozen=True)
class Moved:
    key: Key
    backend: str
    disagreement: Disagreement

    @property
    def ulps(self) -> float:
        a, b = self.disagreement.values
        return self.disagreement.abs_diff / float(np.spacing(max(abs(a), abs(b)) or 1.0))

    @property
    def in_ulps(self) -> str:
        """The distance in words: ``1 ulp``, ``354 ulps``."""
        return f"{self.ulps:.3g} ulp" + ("" if self.ulps == 1 else "s")


@dataclass
class DiffReport:
    a: Side
    b: Side
    compared: int = 0                    # numbers compared
    moved: int = 0                       # numbers that differ at all
    largest: Moved | None = None         # the one that moved most, in ulps
    differences: list[Moved] = field(default_factory=list)    # past the tolerance, per array
    only_in: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.differences and not any(self.only_in.values())


def read(path: str) -> Side:
    """Every (example, backend) result of one file; ResultFileError unless it is one."""
    try:
        doc = json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResultFileError(f"{path}: not a JSON result file ({exc})") from None
    return parse(doc, path)


def parse(doc, name: str) -> Side:
    """A result document (run JSON, --all, or a golden file) as a Side."""
    try:
        if "results" in doc:                       # a golden file: one backend's results
            runs = [{"example": doc["example"], "rule": doc["rule"], "dtype": "float64",
                     "steps": doc["steps"],
                     "backends": {doc.get("backend", "numpy"): doc["results"]},
                     "environment": {"backends": doc.get("versions", {})}}]
        else:
            runs = doc["examples"] if "examples" in doc else [doc]
        results = {(Key(r["example"], r["rule"], r["dtype"], int(r["steps"])), backend):
                   read_result(values) for r in runs for backend, values in r["backends"].items()}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultFileError(f"{name}: not a result of crosscheck run --json or a golden "
                              f"file (no {exc})") from None
    return Side(name, results, runs[0].get("environment", {}) if runs else {})


def _scales(key: Key, result: Result):
    """The magnitudes of the terms, where the example is a shipped one."""
    try:
        example = examples.load(examples.find(key.example))
    except examples.UnknownExample:
        return None
    return magnitudes(example.layers, example.inputs, example.targets, example.loss, key.rule,
                      example.learning_rate, result)


def _compare(report: DiffReport, key: Key, backend: str, a: Result, b: Result, tolerance):
    scales = None if tolerance is not None else _scales(key, a)
    for quantity in REPORTED:
        missing = [side for side, r in (("A", a), ("B", b)) if quantity.value(r, 0.0) is None]
        if quantity.optional and missing:      # computed on one side only (or on neither)
            for side in {"A", "B"} - set(missing) if len(missing) == 1 else ():
                report.only_in.setdefault(side, []).append(f"{key} {backend} {quantity.key}")
            continue
        judged = scales is not None and phase(quantity, key.steps) == FIRST_STEP
        tol = policy(key.dtype, quantity, key.steps) if tolerance is None else tolerance
        # An array only one side has (a layer more or less) is compared against None.
        pairs = itertools.zip_longest(quantity.leaves(quantity.value(a, 0.0)),
                                      quantity.leaves(quantity.value(b, 0.0)),
                                      fillvalue=(None, None))
        scales_of = itertools.chain(quantity.leaves(quantity.value(scales, 0.0)) if judged
                                    else (), itertools.repeat((None, None)))
        for ((place, x), (other_place, y)), (_, scale) in zip(pairs, scales_of):
            place, one = place or other_place, Comparison("A", dtype=key.dtype)
            one.add_array("B", place, x, y, tol, scale)
            report.compared += one.compared
            if one.worst is None:
                continue
            report.moved += int(np.count_nonzero(np.asarray(x) != np.asarray(y))) \
                if np.shape(x) == np.shape(y) else one.compared
            moved = Moved(key, backend, one.worst)
            if one.worst.abs_diff > 0 and (report.largest is None or
                                           moved.ulps > report.largest.ulps):
                report.largest = moved
            if not one.agree:
                report.differences.append(moved)


def diff(a_file: str, b_file: str, tolerance: float | None = None) -> DiffReport:
    """Compare two result files; see the module docstring."""
    return compare(read(a_file), read(b_file), tolerance)


def compare(a_side: Side, b_side: Side, tolerance: float | None = None) -> DiffReport:
    """Compare two sides, number by number."""
    report = DiffReport(a_side, b_side)
    a, b = a_side.results, b_side.results
    report.only_in = {"A": [f"{k} {n}" for k, n in a if (k, n) not in b],
                      "B": [f"{k} {n}" for k, n in b if (k, n) not in a]}
    # (and, added by _compare, the optional quantities one side computed and the other not)
    for key, backend in a:
        if (key, backend) in b:
            _compare(report, key, backend, a[key, backend], b[key, backend], tolerance)
    return report
