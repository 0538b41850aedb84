"""The side-by-side table of a run: published | one column per backend | difference | status;
the loss per step of a training run; and an example described as a reader wants it."""

from __future__ import annotations

import numpy as np

from crosscheck.compare.quantities import FIGURES, REPORTED, Form, Place
from crosscheck.examples import Example, Figure
from crosscheck.report.text import backends_line, columns, number, shorten, spread, wrap
from crosscheck.runs.example import Report


def _heading(report: Report) -> list[str]:
    example, settings = report.example, report.settings
    return [
        shorten(f"{example.name} — {example.title}" if example.title else example.name),
        f"rule {settings.rule} · dtype {settings.dtype} · steps {settings.steps} · "
        f"mode {settings.mode} · learning rate {settings.learning_rate:g} · loss {example.loss}",
        *([f"optimizer {settings.optimizer}"] if settings.optimizer else []),
        backends_line(report.versions, report.reference),
        "",
    ]


def _every_number(example: Example):
    """A Figure (with nothing printed) for every number a run holds, in the vocabulary's order,
    but for the scalars (rows of their own) and the quantities that repeat others' numbers."""
    for quantity in FIGURES:
        if quantity.form is Form.SCALAR or quantity.repeats:
            continue
        for place, shape in _arrays(example, quantity):
            for index in np.ndindex(*shape):
                yield Figure(quantity.key, quantity, place.at(index), "", False,
                             example.names.label(place.at(index)))


def _arrays(example: Example, quantity):
    """(place, shape) of every array of ``quantity`` in the example."""
    samples, net = example.names.samples, example.layers
    if quantity.form is Form.OUTPUTS:
        yield Place(quantity.key), (samples, net[-1].weights.shape[0])
        return
    for layer, lay in enumerate(net):
        if quantity.form is Form.LAYERS:
            yield Place(quantity.key, layer), (samples, lay.weights.shape[0])
            continue
        yield Place(quantity.key, layer, "weights"), lay.weights.shape
        if lay.bias is not None and (lay.train_bias or not quantity.trained_only):
            yield Place(quantity.key, layer, "bias"), lay.bias.shape


def _cell(value: float) -> str:
    """A number, or "-" where the backend does not compute it."""
    return "-" if np.isnan(value) else number(value)


def _values(report: Report, figure: Figure) -> list[float]:
    """The figure's number on every backend; NaN where a backend does not compute it."""
    lr, quantity = report.settings.learning_rate, figure.quantity
    return [np.nan if quantity.value(result, lr) is None else
            quantity.number(result, lr, figure.place) for result in report.results.values()]


def _status(report: Report, figure: Figure, check) -> str:
    """ok, FAILS, erratum; or, for a figure printed for other settings, n/a and which."""
    if check is None:
        return f"n/a (printed for {report.printed_for(figure)})"
    if figure.erratum:
        return "erratum" if check.ok else "FAILS: rounds to print"
    return "ok" if check.ok else "FAILS"


def render(report: Report, full: bool = False) -> str:
    """The side-by-side table: published figures in the tutorial's order, with its own labels
    where the example gives them (and with ``full`` every other number)."""
    names, example = list(report.results), report.example
    own = any(figure.own_label for figure in example.figures)
    lines = _heading(report)
    header = ["quantity", *(["tutorial"] * own), "published", *names, "max diff", "status"]
    rows = []
    published = {figure.quantity.key for figure in example.figures}
    for quantity in REPORTED:
        if quantity.form is Form.SCALAR and quantity.key not in published and report.results:
            values = [float(quantity.value(r, 0.0)) for r in report.results.values()]
            rows.append([quantity.label, *([""] * own), "", *map(_cell, values), spread(values),
                         ""])
    checks = {check.figure: check for check in report.checks}
    errata = []
    for figure in example.figures if report.results else ():
        values, check = _values(report, figure), checks.get(figure)
        if figure.erratum and check is not None:
            errata.append(f"  {figure.own_label or figure.label}: printed {figure.printed}, "
                          f"computed {number(check.computed)}  ({figure.key})")
        rows.append([figure.label, *([figure.own_label] * own), figure.printed,
                     *map(_cell, values), spread(values), _status(report, figure, check)])
    if full and report.results:
        for figure in _every_number(example):
            values = _values(report, figure)
            rows.append([figure.label, *([""] * own), "", *map(_cell, values), spread(values),
                         ""])
    lines += columns(header, rows)
    if errata:
        lines += ["", "Errata (printed figures that do not round from the true value):", *errata]
    lines += ["", verdict(report)]
    return "\n".join(lines)


def verdict(report: Report) -> str:
    """The last line: figures that hold, errata confirmed, whether the backends agree."""
    checks = report.checks
    holds = sum(c.ok for c in checks if not c.figure.erratum)
    expected = sum(not c.figure.erratum for c in checks)
    confirmed = sum(c.ok for c in checks if c.figure.erratum)
    errata = sum(c.figure.erratum for c in checks)
    names = list(report.results)
    if len(names) > 1:
        agreement = (f"{', '.join(names)} agree (largest difference "
                     f"{report.comparison.max_abs_diff:.1e})" if report.agree
                     else f"backends DISAGREE: {report.comparison.worst}")
    elif names:
        agreement = f"{names[0]} only: no second backend to compare"
    else:
        agreement = "no backend computed this run"
    text = (f"{'OK' if report.ok else 'FAIL'}: {holds}/{expected} published figures hold, "
            f"{confirmed}/{errata} errata confirmed; {agreement}")
    for name, message in {**report.unsupported, **report.failed}.items():
        text += (f". {name} skipped, {message}" if name in report.unsupported
                 else f". {name} FAILED: {message}")
    if report.hint:
        text += f". Hint: {report.hint}"
    if report.skipped:
        text += (f". {len(report.skipped)} published figures n/a: printed for the example's own "
                 "rule, steps, mode or learning rate")
    limit = report.example.chaotic_steps.get(report.settings.rule)
    if limit and report.settings.steps > limit and len(names) > 1:
        text += (f". This run is chaotic past about {limit} steps (see [chaotic_steps] in "
                 f"{report.example.name}'s file): backends are expected to drift apart")
    return wrap(text)


def render_training(report: Report) -> str:
    """The loss per step on every backend, at about a dozen steps, and the verdict."""
    steps, names = report.settings.steps, list(report.results)
    shown = sorted({k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000,
                                20000, 50000, 100000) if k <= steps} | {steps})
    rows = []
    for k in shown:
        values = [float(result.losses[k - 1]) for result in report.results.values()]
        rows.append([str(k), *map(_cell, values), spread(values)])
    lines = [*_heading(report), "Loss after each step shown:"]
    lines += columns(["step", *names, "max diff", ""], [[*row, ""] for row in rows])
    return "\n".join([*lines, "", verdict(report)])


def describe(example: Example) -> str:
    """An example as a reader wants it: settings, layers with their names, data, figures."""
    lines = [f"{example.name} — {example.title}" if example.title else example.name]
    if example.tutorial.citation():
        lines += wrap("tutorial: " + example.tutorial.citation()).splitlines()
    if example.source:
        lines += wrap("source: " + " ".join(example.source.split())).splitlines()
    lines += [f"loss {example.loss} · learning rate {example.learning_rate:g} · steps "
              f"{example.steps} · mode {example.mode} · rule {example.rule}"]
    lines += [f"optimizer {example.optimizer}"] if example.optimizer else []
    lines += [""]
    width = example.inputs.shape[1]
    for i, layer in enumerate(example.layers):
        lines += _describe_layer(example, i, layer, width)
        width = layer.weights.shape[0]
    lines += ["", f"data: {example.inputs.shape[0]} sample(s), inputs → targets"]
    for x, t in zip(example.inputs, example.targets):
        lines.append(f"  [{', '.join(f'{v:g}' for v in x)}] → [{', '.join(f'{v:g}' for v in t)}]")
    expected = [f for f in example.figures if not f.erratum]
    errata = [f for f in example.figures if f.erratum]
    lines += ["", f"published figures: {len(expected)} expected, {len(errata)} errata"
                  + (", in the tutorial's order" if example.tutorial.labels else "")]
    rows = [[f.label, f.key, f.printed, f.own_label, "erratum" if f.erratum else ""]
            for f in example.figures]
    if rows:
        table = columns(["quantity", "key", "printed", "tutorial" if example.tutorial.labels
                         else "", ""], rows, left=2)
        lines += table[:2]
        for n, (figure, line) in enumerate(zip(example.figures, table[2:])):
            # The tutorial's sections as sub-headings, where the example names them.
            if figure.printed_at and (n == 0 or example.figures[n - 1].printed_at !=
                                      figure.printed_at):
                lines.append(shorten(f"· {figure.printed_at}"))
            lines.append(line)
    return "\n".join(lines)


def _describe_layer(example: Example, i: int, layer, width: int) -> list[str]:
    outputs, names = layer.weights.shape[0], example.names
    bias = "no bias" if layer.bias is None else \
        "bias" + ("" if layer.train_bias else " (held fixed)")
    lines = [f"layers[{i}]: {width} → {outputs}, {layer.activation}, {bias}"]
    for j in range(outputs):
        neuron = names.neurons[i][j] if names.neurons[i] else f"neuron {j}"
        weights = "  ".join(f"{names.weights[i][j][k]}={w:g}" if names.weights[i] else f"{w:g}"
                            for k, w in enumerate(layer.weights[j]))
        line = f"  {neuron:<10} ← {weights}"
        if layer.bias is not None:
            label = f"{names.biases[i][j]}=" if names.biases[i] else "b="
            line += f"  + {label}{layer.bias[j]:g}"
        lines.append(line)
    return lines
