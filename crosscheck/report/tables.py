"""The side-by-side table of a Report: published | one column per backend | difference | status.

Plain text, no colour, at most 100 columns wide, so that it reads the same in a terminal, a log
and a pasted issue.
"""

from __future__ import annotations

import textwrap

import numpy as np

from crosscheck import examples
from crosscheck.examples import Example, Figure
from crosscheck.harness import CHAOTIC, Report, value_of


def _num(value: float) -> str:
    return f"{value:.9g}"


def _heading(report: Report) -> list[str]:
    example, settings = report.example, report.settings
    versions = " · ".join(f"{name} {report.versions[name]}" for name in report.results)
    return [
        textwrap.shorten(f"{example.name} — {example.title}" if example.title else example.name,
                         width=100, placeholder="…"),
        f"rule {settings.rule} · dtype {settings.dtype} · steps {settings.steps} · "
        f"mode {settings.mode} · learning rate {settings.learning_rate:g} · loss {example.loss}",
        f"backends: {versions}",
        "",
    ]


def _every_number(example: Example):
    """A Figure (with nothing printed) for every number a report holds, in reading order."""
    depth, n = len(example.layers), example.inputs.shape[0]

    def cells(quantity, layer, part, shape):
        for index in np.ndindex(*shape):
            yield Figure(quantity, quantity, layer, part, index, "", False,
                         examples.label(example, quantity, layer, part, index))

    for layer, lay in enumerate(example.layers):
        yield from cells("activations_before", layer, None, (n, lay.weights.shape[0]))
    yield from cells("output_gradient", depth - 1, None, (n, example.layers[-1].weights.shape[0]))
    for layer, lay in reversed(list(enumerate(example.layers))):
        yield from cells("errors", layer, None, (n, lay.weights.shape[0]))
    for quantity in ("gradients", "params_after"):
        for layer, lay in enumerate(example.layers):
            yield from cells(quantity, layer, "weights", lay.weights.shape)
            if lay.bias is not None and (lay.train_bias or quantity == "params_after"):
                yield from cells(quantity, layer, "bias", lay.bias.shape)
    for layer, lay in enumerate(example.layers):
        yield from cells("activations_after", layer, None, (n, lay.weights.shape[0]))


def render(report: Report, full: bool = False) -> str:
    """The side-by-side table: published figures (and with ``full`` every other number)."""
    example, settings = report.example, report.settings
    names = list(report.results)
    lines = _heading(report)
    header = ["quantity", "published", *names, "max diff", "status"]
    rows = []
    published = {check.figure.quantity for check in report.checks}
    for key in ("loss_before", "loss_after"):
        if key in published:
            continue            # it has its own row below, with the printed figure
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
    if full:
        for figure in _every_number(example):
            values = [value_of(report.results[name], figure, settings.learning_rate)
                      for name in names]
            rows.append([figure.label, "", *map(_num, values), _spread(values), ""])
    lines += _columns(header, rows)
    if errata:
        lines += ["", "Errata (printed figures that do not round from the true value):", *errata]
    lines += ["", _verdict(report)]
    return "\n".join(lines)


def _spread(values) -> str:
    if len(values) < 2:
        return "-"
    return f"{max(values) - min(values):.1e}"


def _columns(header, rows, left=1) -> list[str]:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

    def line(row):
        cells = [str(cell)[:widths[i]].ljust(widths[i]) if i < left else str(cell).rjust(widths[i])
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
    text = (f"{word}: {holds}/{expected} published figures hold, {confirmed}/{errata} errata "
            f"confirmed; {agreement}")
    if report.skipped:
        text += (f". {len(report.skipped)} published figures not checked: they belong to the "
                 "example's own rule, steps, mode or learning rate")
    limit = CHAOTIC.get((report.example.name, report.settings.rule))
    if limit and report.settings.steps > limit and len(names) > 1:
        text += (f". This run is chaotic past about {limit} steps (see CHAOTIC in "
                 "crosscheck/harness.py): backends are expected to drift apart")
    return wrap(text)


def wrap(text: str) -> str:
    """A verdict wrapped at 100 columns, never inside a place such as "[layer 0]"."""
    text = text.replace("[layer ", "[layer\u00a0")
    return textwrap.fill(text, width=100, subsequent_indent="  ",
                         break_on_hyphens=False).replace("\u00a0", " ")


def render_training(report: Report) -> str:
    """The loss per step on every backend, at about a dozen steps, and the verdict."""
    settings, names = report.settings, list(report.results)
    steps = settings.steps
    shown = sorted({k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
                                20000, 50000, 100000) if k <= steps} | {steps})
    rows = []
    for k in shown:
        values = [float(report.results[name]["losses"][k - 1]) for name in names]
        rows.append([str(k), *map(_num, values), _spread(values)])
    lines = [*_heading(report), "Loss after each step shown:"]
    lines += _columns(["step", *names, "max diff", ""], [[*row, ""] for row in rows])
    return "\n".join([*lines, "", _verdict(report)])


def describe(example: Example) -> str:
    """An example as a reader wants it: settings, layers with their names, data, figures."""
    lines = [f"{example.name} — {example.title}" if example.title else example.name]
    if example.source:
        lines += textwrap.wrap("source: " + " ".join(example.source.split()), width=100,
                               subsequent_indent="  ")
    lines += [f"loss {example.loss} · learning rate {example.learning_rate:g} · steps "
              f"{example.steps} · mode {example.mode} · rule {example.rule}", ""]
    width = example.inputs.shape[1]
    for i, layer in enumerate(example.layers):
        outputs = layer.weights.shape[0]
        bias = "no bias" if layer.bias is None else \
            "bias" + ("" if layer.train_bias else " (held fixed)")
        lines.append(f"layers[{i}]: {width} → {outputs}, {layer.activation}, {bias}")
        for j in range(outputs):
            neuron = (example.neuron_names[i] or [f"neuron {j}"] * outputs)[j]
            names = example.weight_names[i]
            weights = "  ".join(f"{names[j][k]}={w:g}" if names else f"{w:g}"
                                for k, w in enumerate(layer.weights[j]))
            line = f"  {neuron:<10} ← {weights}"
            if layer.bias is not None:
                b_names = example.bias_names[i]
                line += f"  + {b_names[j] + '=' if b_names else 'b='}{layer.bias[j]:g}"
            lines.append(line)
        width = outputs
    lines += ["", f"data: {example.inputs.shape[0]} sample(s), inputs → targets"]
    for x, t in zip(example.inputs, example.targets):
        lines.append(f"  [{', '.join(f'{v:g}' for v in x)}] → [{', '.join(f'{v:g}' for v in t)}]")
    expected = [f for f in example.figures if not f.erratum]
    errata = [f for f in example.figures if f.erratum]
    lines += ["", f"published figures: {len(expected)} expected, {len(errata)} errata"]
    rows = [[f.label, f.key, f.printed, "erratum" if f.erratum else ""]
            for f in expected + errata]
    if rows:
        lines += _columns(["quantity", "key", "printed", ""], rows, left=2)
    return "\n".join(lines)
