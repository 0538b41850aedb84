"""The text of ``crosscheck rules``: the first update per layer, then the training runs."""

from __future__ import annotations

from crosscheck.report.text import backends_line, formatted, wrap
from crosscheck.runs.rules import RulesReport


def render(report: RulesReport) -> str:
    """The two tables and the verdict."""
    example, settings = report.example, report.settings
    names = list(report.versions)
    lines = [
        f"{example.name} — the tutorials' rules against the exact gradient",
        backends_line(report.versions, names[0]),
        "",
        "The first update, per layer (initial parameters, all samples; weights and bias):",
        "cosine = cos(g_rule, g), rel. diff = ‖g_rule − g‖ / ‖g‖, with g the true gradient",
    ]
    lines += _alignment_table(report, names)
    lines += [
        "",
        f"Training: {settings.steps} {settings.mode} step(s), learning rate "
        f"{settings.learning_rate:g}, loss {example.loss}, threshold {report.threshold:g}:",
    ]
    lines += _training_table(report, names)
    undefined = {run.undefined for per in report.training.values() for run in per.values()
                 if run.undefined}
    lines += [f"  {message}" for message in sorted(undefined)]
    return "\n".join([*lines, "", wrap(_verdict(report, names))])


def _alignment_table(report: RulesReport, names) -> list[str]:
    head = ["rule", "layer", *names, *names]
    rows = []
    for rule in report.rules:
        for layer in range(len(report.example.layers)):
            cells = [rule if layer == 0 else "", str(layer)]
            cells += [formatted(report.alignment[rule][n][layer][0], ".6f").rjust(9)
                      for n in names]
            cells += [formatted(report.alignment[rule][n][layer][1], ".4g").rjust(9)
                      for n in names]
            rows.append(cells)
    table = _table(head, rows)
    # A group header over each set of backend columns.
    group = len("  ".join(f"{n:>9}" for n in names))
    start = len(table[0]) - 2 * group - 2
    return [" " * start + f"{'cosine':>{group}}  {'rel. diff':>{group}}", *table]


def _training_table(report: RulesReport, names) -> list[str]:
    head = ["rule", "backend", "loss after", f"steps to ≤ {report.threshold:g}", "truth table"]
    rows = []
    for rule in report.rules:
        for i, name in enumerate(names):
            run = report.training[rule][name]
            if run.undefined:
                rows.append([rule if i == 0 else "", name, "undefined", "-", "-"])
                continue
            reached = run.steps_to(report.threshold)
            rows.append([rule if i == 0 else "", name, formatted(run.losses[-1], ".6g"),
                         "never" if reached is None else str(reached),
                         "yes" if run.truth_table(report.example.targets) else "no"])
    return _table(head, rows)


def _verdict(report: RulesReport, names) -> str:
    if len(names) < 2:
        return f"{names[0]} only: no second backend to compare"
    comparison = report.comparison
    verdict = (f"OK: {', '.join(names)} agree on every number above and every loss of every "
               f"step (largest difference {comparison.max_abs_diff:.1e})" if report.ok
               else f"FAIL: backends DISAGREE: {comparison.worst}")
    for rule in report.rules:
        limit = report.example.chaotic_steps.get(rule)
        if limit and limit < report.settings.steps:
            verdict += (f"; except: {rule} is compared only over its first {limit} steps, since "
                        "its run is chaotic (rounding differences grow without bound; see "
                        f"[chaotic_steps] in {report.example.name}'s file)")
    return verdict


def _table(header, rows):
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = ["<", "<", *[">"] * (len(header) - 2)]
    out = ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(header, fmt, widths)).rstrip()]
    out += ["  ".join(f"{c:{a}{w}}" for c, a, w in zip(r, fmt, widths)).rstrip() for r in rows]
    return out
