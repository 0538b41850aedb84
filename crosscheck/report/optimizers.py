"""The text of ``crosscheck optimizers``: each convention's run, the pairs' differences per
step, and for each pair why it differs and what makes it agree."""

from __future__ import annotations

from crosscheck.report.text import columns, formatted, wrap
from crosscheck.runs.optimizers import ConventionsReport, Pair


def milestones(steps: int) -> list[int]:
    """The steps the table shows: 1, 10, 100, … and the last."""
    shown = [s for s in (1, 10, 100, 1000, 10000) if s < steps]
    return [*shown, steps]


def render(report: ConventionsReport) -> str:
    spec = report.optimizer
    lines = [f"{report.example.name} — {spec.name} under each framework's convention "
             f"(the NumPy reference of each)",
             f"{report.steps} {report.mode} step(s), learning rate {report.learning_rate:g}; "
             f"settings (torch.optim's names): {spec.under('torch')}", ""]
    lines += columns(["convention", "loss after", "as written"],
                     [[c, formatted(run.losses[-1], ".6g") if run.losses.size else "-",
                       run.problem or str(run.optimizer)] for c, run in report.runs.items()])
    if not report.pairs:
        return "\n".join([*lines, "", "no two conventions can express this optimizer"])
    shown = milestones(report.steps)
    lines += ["", "Largest difference of any weight or bias between two conventions, after step:"]
    lines += columns(["pair", *map(str, shown), "first apart"],
                     [[f"{p.a} – {p.b}", *(formatted(p.differences[s - 1], ".1e") for s in shown),
                       "never" if p.apart_from is None else f"step {p.apart_from}"]
                      for p in report.pairs])
    lines += ["", "Why, and what makes them agree (measured):"]
    lines += [wrap(f"  {p.a} – {p.b}: {explain(p, report)}") for p in report.pairs]
    return "\n".join(lines)


def explain(pair: Pair, report: ConventionsReport) -> str:
    """One pair in words: the same algorithm, or its difference, its reason and its remedy."""
    largest = float(max(pair.differences.max(), 0.0))
    if pair.apart_from is None:
        return (f"agree within {report.tolerance:g} of the weights over {report.steps} steps "
                f"(largest difference {largest:.1e}): the same algorithm in two spellings")
    gap = (f"apart from step {pair.apart_from} by {pair.differences[pair.apart_from - 1]:.1e}, "
           f"by {pair.differences[-1]:.1e} after {report.steps} steps")
    if not pair.reconciled_by:
        return f"{gap}; no one or two of the known settings reconcile them"
    settings = " and ".join(f"{k} = {toml_value(v)}" for k, v in pair.reconciled_by.items())
    return (f"{gap}: {pair.why}. With {settings} they agree to "
            f"{pair.reconciled_difference:.1e}")


def toml_value(value) -> str:
    """A setting as an example file writes it."""
    return str(value).lower() if isinstance(value, bool) else f"{value:g}"
