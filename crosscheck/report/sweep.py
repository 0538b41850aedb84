"""The text of ``crosscheck sweep``: what ran, how fast, the largest difference, the verdict."""

from __future__ import annotations

from crosscheck.runs.sweep import SweepReport, check_command


def render(report: SweepReport) -> str:
    worst = report.worst
    timing = ", ".join(f"{name} {sec:.2f}" for name, sec in report.seconds_by_backend.items())
    relative = "-" if worst is None else f"{worst.rel_diff:.3g}"
    lines = [
        f"crosscheck sweep: {_networks(report)} on {', '.join(report.backends)} "
        f"({report.dtype}), seed {report.seed}",
        f"  architectures     {len(report.architectures)} (up to {report.per_architecture} "
        f"networks each); rules {','.join(report.rules)}"
        + ("; each with a drawn optimizer, in batch mode" if report.optimizers else ""),
        f"  seconds           {report.seconds:.2f} ({timing}; then comparing), after "
        f"{report.setup_seconds:.2f} s of setup",
        f"  cross-checks/s    {report.per_second:,.0f}",
        f"  largest diff      {report.max_abs_diff:.3g} absolute; worst relative {relative} "
        f"(tolerance {report.tolerance:g}, relative to the terms of each number)",
    ]
    if report.diverged:
        lines.append(f"  diverged          {report.diverged} network(s) whose step blew up on "
                     "numpy: counted, not compared")
    if worst is not None:
        arch = report.architecture(report.worst_architecture)
        lines.append(f"  worst network     {worst.backends[1]}: {worst}")
        lines.append(f"                    network {worst.network} of architecture "
                     f"{report.worst_architecture}: {arch.describe()}")
    if report.worst_file:
        lines.append(f"  written to        {report.worst_file} ({check_command(report)})")
    lines.append("ok: every network agrees on every backend" if report.ok else
                 f"DISAGREEMENT: {report.disagreements} network(s) past the tolerance")
    return "\n".join(lines)


def _networks(report) -> str:
    """``20000 random networks``, or ``5000 of the 20000 random networks (shard 1/4)``."""
    if report.shard == (1, 1):
        return f"{report.count} random networks"
    return (f"{report.networks} of the {report.count} random networks (shard "
            f"{report.shard[0]}/{report.shard[1]})")
