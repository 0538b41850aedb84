"""A picture of an example's network, as SVG text: no library, no network access.

Inputs on the left (i1, i2, … as seed 002 names them), then one column per layer with its
activation underneath; each neuron is a circle labelled with the example's name for it (h1,
o1, prediction), each weight an arrow labelled with its name and value, each bias a "+ b" under
its neuron. Given the network after the step, every label reads "before → after". The numbers
are the example's own (``g`` format, up to 4 significant digits), so a reader can check them
against the tutorial's drawing.
"""

from __future__ import annotations

from html import escape

import numpy as np

from crosscheck.examples import Example

COLUMN, ROW, MARGIN = 300, 110, 40


def _value(before: float, after: float | None) -> str:
    """``0.12 → 0.1288``, or ``0.12`` where the step did not move it at this precision."""
    text = f"{before:.4g}"
    return text if after is None or f"{after:.4g}" == text else f"{text} → {after:.4g}"


def _radius(example: Example) -> float:
    """Wide enough for the longest neuron name ("prediction")."""
    longest = max(len(example.names.neuron(layer, j)) for layer, spec in
                  enumerate(example.layers) for j in range(spec.weights.shape[0]))
    return max(24.0, 4.1 * longest + 6)


def _column(example: Example, after, radius: float) -> float:
    """The distance between columns: room for two weight labels along an arrow."""
    longest = max((len(_weight_label(example, layer, j, k, after))
                   for layer, spec in enumerate(example.layers)
                   for j, k in np.ndindex(spec.weights.shape)), default=0)
    return max(COLUMN, 2 * radius + 2.6 * 7.2 * longest)


def _positions(widths: list[int], radius: float, column: float):
    """The centre of every neuron, column by column, each column centred vertically."""
    tallest = max(widths)
    return [[(MARGIN + radius + c * column,
              MARGIN + radius + (j + (tallest - width) / 2) * ROW) for j in range(width)]
            for c, width in enumerate(widths)]


def _weight_label(example: Example, layer: int, j: int, k: int, after) -> str:
    names = example.names.weights[layer]
    return (f"{names[j][k]} = " if names else "") + _value(
        example.layers[layer].weights[j, k], None if after is None else after[layer].weights[j, k])


def _text(x, y, text, size=13, weight="normal", fill="#222", box=False) -> str:
    """Centred text; with ``box``, on a white box (about 0.6 em a character) that hides the
    arrows behind it."""
    back = ""
    if box:
        width, height = 0.6 * size * len(text) + 6, size + 4
        back = (f'<rect x="{x - width / 2:.1f}" y="{y - size:.1f}" width="{width:.1f}" '
                f'height="{height}" rx="3" fill="white" fill-opacity="0.9"/>')
    return (f'{back}<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="middle" '
            f'font-weight="{weight}" fill="{fill}">{escape(text)}</text>')


def _edges(example: Example, layer: int, start, end, after, radius) -> list[str]:
    """The arrows into ``layer`` with their labels."""
    parts, labels = [], []
    for j, (x2, y2) in enumerate(end):
        for k, (x1, y1) in enumerate(start):
            dx, dy = x2 - x1, y2 - y1
            norm = (dx * dx + dy * dy) ** 0.5
            tip = (x2 - dx / norm * radius, y2 - dy / norm * radius)
            parts.append(f'<line x1="{x1 + dx / norm * radius:.1f}" '
                         f'y1="{y1 + dy / norm * radius:.1f}" x2="{tip[0]:.1f}" '
                         f'y2="{tip[1]:.1f}" stroke="#8a8fa0" stroke-width="1.3" '
                         f'marker-end="url(#arrow-{example.name})"/>')
            # Every arrow's label at its own distance along it, so that labels of arrows that
            # leave or reach one neuron together stand apart.
            t = 0.5 + (0.54 * (k / (len(start) - 1) - 0.5) if len(start) > 1 else 0) + (
                0.1 * (j / (len(end) - 1) - 0.5) if len(end) > 1 else 0)
            # t is a fraction of the arrow's visible part, between the two circles.
            x, y = (x1 + dx / norm * radius + t * (dx - 2 * dx / norm * radius),
                    y1 + dy / norm * radius + t * (dy - 2 * dy / norm * radius))
            labels.append(_text(x, y + 4,
                                _weight_label(example, layer, j, k, after), size=12,
                                fill="#1f4e9c", box=True))
    return parts + labels        # every label over every arrow


def _neurons(example: Example, layer: int, centres, after, radius) -> list[str]:
    """The circles of ``layer`` with their names, biases underneath."""
    spec = example.layers[layer]
    parts = []
    for j, (x, y) in enumerate(centres):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="#eef3fb" '
                     'stroke="#1f4e9c" stroke-width="1.6"/>')
        parts.append(_text(x, y + 4, example.names.neuron(layer, j), weight="bold"))
        if spec.bias is not None:
            name = example.names.biases[layer]
            new = None if after is None or not spec.train_bias else after[layer].bias[j]
            bias = (f"{name[j]} = " if name else "+ b = ") + _value(spec.bias[j], new)
            parts.append(_text(x, y + radius + 16, bias, size=11, fill="#6b4e16"))
    return parts


def after_step(example: Example):
    """The network after the example's one step, by the NumPy reference; None for an example
    that trains for more steps (its picture shows where it starts)."""
    if example.steps != 1:
        return None
    import reference

    return reference.step(example.layers, example.inputs, example.targets, example.loss,
                          example.learning_rate, example.rule, example.mode)


def svg(example: Example, after=None) -> str:
    """The network of ``example`` as an SVG document; with ``after`` (the Network after the
    step) every weight and trained bias reads "before → after"."""
    widths = [example.inputs.shape[1], *(layer.weights.shape[0] for layer in example.layers)]
    radius = _radius(example)
    column = _column(example, after, radius)
    columns = _positions(widths, radius, column)
    width = round(MARGIN * 2 + radius * 2 + column * (len(widths) - 1))
    height = round(MARGIN * 2 + radius * 2 + ROW * (max(widths) - 1) + 40)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, Arial, sans-serif" '
             f'role="img"><title>{escape(example.name)}: the network</title>',
             f'<defs><marker id="arrow-{example.name}" viewBox="0 0 10 10" refX="10" refY="5" '
             'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
             '<path d="M 0 0 L 10 5 L 0 10 z" fill="#8a8fa0"/></marker></defs>']
    for layer in range(len(example.layers)):
        parts += _edges(example, layer, columns[layer], columns[layer + 1], after, radius)
    for k, (x, y) in enumerate(columns[0]):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="#fdf6e3" '
                     'stroke="#a67c00" stroke-width="1.6"/>')
        parts.append(_text(x, y + 4, f"i{k + 1}", weight="bold"))
    for layer in range(len(example.layers)):
        parts += _neurons(example, layer, columns[layer + 1], after, radius)
    bottom = height - 14
    parts.append(_text(columns[0][0][0], bottom, "inputs", size=12, fill="#555"))
    for layer, spec in enumerate(example.layers):
        parts.append(_text(columns[layer + 1][0][0], bottom, spec.activation, size=12,
                           fill="#555"))
    return "\n".join([*parts, "</svg>", ""])
