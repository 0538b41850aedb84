"""The side-by-side table of a Report: published | one column per backend | difference | status.

Plain text, no colour, at most 100 columns wide, so that it reads the same in a terminal, a log
and a pasted issue.
"""

from __future__ import annotations

import textwrap

from crosscheck.harness import Report, value_of


def _num(value: float) -> str:
    return f"{value:.9g}"


def render(report: Report) -> str:
    example, settings = report.example, report.settings
    names = list(report.results)
    versions = " · ".join(f"{name} {report.versions[name]}" for name in names)
    lines = [
        textwrap.shorten(f"{example.name} — {example.title}" if example.title else example.name,
                         width=100, placeholder="…"),
        f"rule {settings.rule} · dtype {settings.dtype} · steps {settings.steps} · "
        f"mode {settings.mode} · learning rate {settings.learning_rate:g} · loss {example.loss}",
        f"backends: {versions}",
        "",
    ]
    header = ["quantity", "published", *names, "max diff", "status"]
    rows = []
    for key in ("loss_before", "loss_after"):
        values = [float(report.results[name][key]) for name in names]
        rows.append([key.replace("_", " "), "", *map(_num, values), _spread(values), ""])
    errata = []
    for check in report.checks:
        figure = check.figure
        values = [value_of(report.results[name], figure, settings.learning_rate) for name in names]
        if figure.erratum:
            status = "erratum" if check.ok else "FAILS: rounds to print"
            errata.append(f"  {figure.label}: printed {figure.printed}, computed "
                          f"{_num(check.computed)}  ({figure.key})")
        else:
            status = "ok" if check.ok else "FAILS"
        rows.append([figure.label, figure.printed, *map(_num, values), _spread(values), status])
    lines += _columns(header, rows)
    if errata:
        lines += ["", "Errata (printed figures that do not round from the true value):", *errata]
    lines += ["", _verdict(report)]
    return "\n".join(lines)


def _spread(values) -> str:
    if len(values) < 2:
        return "-"
    return f"{max(values) - min(values):.1e}"


def _columns(header, rows) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    widths[0] = min(widths[0], 24)

    def line(row):
        cells = [str(cell)[:widths[i]].ljust(widths[i]) if i == 0 else str(cell).rjust(widths[i])
                 for i, cell in enumerate(row[:-1])]
        return "  ".join([*cells, str(row[-1])]).rstrip()

    return [line(header), line(["-" * w for w in widths[:-1]] + ["-" * len(header[-1])])] + \
        [line(row) for row in rows]


def _verdict(report: Report) -> str:
    holds = sum(c.ok for c in report.checks if not c.figure.erratum)
    expected = sum(not c.figure.erratum for c in report.checks)
    confirmed = sum(c.ok for c in report.checks if c.figure.erratum)
    errata = sum(c.figure.erratum for c in report.checks)
    names = list(report.results)
    if len(names) > 1:
        agreement = (f"{', '.join(names)} agree (largest difference {report.max_abs_diff:.1e})"
                     if report.agree else f"backends DISAGREE: {report.worst}")
    else:
        agreement = f"{names[0]} only: no second backend to compare"
    word = "OK" if report.ok else "FAIL"
    return wrap(f"{word}: {holds}/{expected} published figures hold, {confirmed}/{errata} errata "
                f"confirmed; {agreement}")


def wrap(text: str) -> str:
    """A verdict wrapped at 100 columns, never inside a place such as "[layer 0]"."""
    text = text.replace("[layer ", "[layer\u00a0")
    return textwrap.fill(text, width=100, subsequent_indent="  ",
                         break_on_hyphens=False).replace("\u00a0", " ")
