"""The text of ``crosscheck diff``: both sides' versions, what moved, the verdict."""

from __future__ import annotations

from crosscheck.report.text import columns, wrap


def _side(name: str, side) -> str:
    env = side.environment
    backends = ", ".join(f"{n} {v}" for n, v in env.get("backends", {}).items())
    where = ", ".join(f"{k} {env[k]}" for k in ("python", "machine", "commit") if env.get(k))
    return wrap(f"{name}: {side.file}: {backends}" + (f" ({where})" if where else ""))


def render(report) -> str:
    lines = [_side("A", report.a), _side("B", report.b), ""]
    largest = report.largest
    moved = (f"{report.moved} of {report.compared} numbers moved; the most, by "
             f"{largest.in_ulps}: {largest.backend} {largest.key}: "
             f"{largest.disagreement.place}" if largest else
             f"none of {report.compared} numbers moved: the two files hold the same numbers")
    lines.append(wrap(moved))
    for side, entries in report.only_in.items():
        lines += [f"only in {side}: {entry}" for entry in entries]
    if report.differences:
        rows = [[str(m.key), m.backend, str(m.disagreement.place), repr(m.disagreement.values[0]),
                 repr(m.disagreement.values[1]), f"{m.ulps:.3g}"] for m in report.differences]
        lines += ["", *columns(["example", "backend", "number", "A", "B", "ulps"], rows, left=3)]
    verdict = ("OK: every number agrees within the tolerance" if report.ok else
               f"DIFFERENT: {len(report.differences)} array(s) moved past the tolerance"
               + (", and results only one side has" if any(report.only_in.values()) else ""))
    return "\n".join([*lines, "", verdict])
