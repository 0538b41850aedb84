"""An example file's ``[expected]`` and ``[errata]``: one Figure per printed number.

The keys are the figure quantities of the vocabulary (``crosscheck/compare/quantities.py``); the
shape of each value follows the quantity's form: a string for one number, a matrix (samples ×
outputs) for the outputs, a table of layer → matrix for per-layer quantities, and for parameters
a table of layer → {weights, bias} or of a parameter's name → string.
"""

from __future__ import annotations

from dataclasses import dataclass

from crosscheck.compare.published import parse_printed
from crosscheck.compare.quantities import BY_KEY, FIGURES, Form, Place, Quantity
from crosscheck.examples.fields import Fields, kind
from crosscheck.examples.names import Names


@dataclass(frozen=True)
class Figure:
    """One published number: where it lives in a result, and how it was printed."""

    key: str                 # as the file writes it, e.g. "params_after.w5", "outputs_before[0][0]"
    quantity: Quantity
    place: Place             # with its index
    printed: str             # the figure as printed
    erratum: bool            # True when it comes from [errata]
    label: str               # what a reader calls it: "w5", "h1 (sample 0)", "loss before"
    own_label: str = ""      # the tutorial's own name for it ("a·Δ·h1"), from [tutorial]
    printed_at: str = ""     # where the tutorial prints it ("Backward Pass")


class _Shapes:
    """The shape of every quantity's arrays in one example, for checking figures."""

    def __init__(self, net, names: Names, transposed: bool):
        self.net, self.names, self.by_name = net, names, names.parameters()
        self.transposed = transposed        # weights' figures written (inputs, outputs)

    def of(self, quantity: Quantity, place: Place):
        """The shape of the array at ``place``, or None where there is none (a missing bias,
        or the gradient of a bias held fixed)."""
        if quantity.form is Form.SCALAR:
            return ()
        if quantity.form is Form.OUTPUTS:
            return (self.names.samples, self.net[-1].weights.shape[0])
        layer = self.net[place.layer]
        if quantity.form is Form.LAYERS:
            return (self.names.samples, layer.weights.shape[0])
        if place.part == "weights":
            return layer.weights.shape
        if layer.bias is None or (quantity.trained_only and not layer.train_bias):
            return None
        return layer.bias.shape


def read(fields: Fields, doc, net, names: Names, transposed=False) -> tuple[Figure, ...]:
    """Every Figure of the file's [expected] and [errata] tables, each place given once;
    ``transposed``: matrices of weights are written (inputs, outputs), as the file's layers."""
    shapes = _Shapes(net, names, transposed)
    figures = []
    for section, erratum in (("expected", False), ("errata", True)):
        if section in doc:
            fields.keys(doc[section], section, {q.key for q in FIGURES})
            for key, value in doc[section].items():
                figures += _quantity(fields, section, erratum, BY_KEY[key], value, shapes)
    seen = {}
    for figure in figures:
        first = seen.setdefault(figure.place, figure)
        if first is not figure:
            section = "errata" if figure.erratum else "expected"
            why = ("also given in [expected]; a printed figure is either expected to hold or an "
                   "erratum, not both" if figure.erratum != first.erratum
                   else f"the same number as {first.key}")
            fields.fail(f"{section}.{figure.key}", why)
    return tuple(figures)


def _quantity(fields, section, erratum, quantity: Quantity, value, shapes: _Shapes):
    """The Figures of one quantity's entry."""
    key, layers = f"{section}.{quantity.key}", {str(i) for i in range(len(shapes.net))}
    entries = []                      # (key in the file, place, value), before expanding arrays
    if quantity.form in (Form.SCALAR, Form.OUTPUTS):
        entries.append((quantity.key, Place(quantity.key), value))
    elif quantity.form is Form.LAYERS:
        fields.keys(value, key, layers)
        entries += [(f"{quantity.key}.{sub}", Place(quantity.key, int(sub)), matrix)
                    for sub, matrix in value.items()]
    else:
        fields.keys(value, key, layers | set(shapes.by_name))
        for sub, item in value.items():
            if sub in shapes.by_name:
                entries.append(_named(fields, key, quantity, sub, item, shapes))
                continue
            fields.keys(item, f"{key}.{sub}", {"weights", "bias"})
            entries += [(f"{quantity.key}.{sub}.{part}", Place(quantity.key, int(sub), part),
                         values) for part, values in item.items()]
    figures = []
    for where, place, entry in entries:
        shape = shapes.of(quantity, place)
        if shape is None:
            fields.fail(f"{section}.{where}", f"layers[{place.layer}] has no bias"
                        + (" to train" if quantity.trained_only else ""))
        named = place.index != ()
        flip = shapes.transposed and place.part == "weights" and not named
        for written, printed in _printed(fields, entry, f"{section}.{where}",
                                         () if named else shape[::-1] if flip else shape):
            at = place if named else place.at(written[::-1] if flip else written)
            suffix = "" if named else "".join(f"[{i}]" for i in written)    # as the file has it
            figures.append(Figure(where + suffix, quantity, at, printed, erratum,
                                  shapes.names.label(at)))
    return figures


def _named(fields, key, quantity, name, value, shapes: _Shapes):
    """(key, place, value) of a figure that names one parameter, e.g. ``params_after.w5``."""
    layer, part, index = shapes.by_name[name]
    place = Place(quantity.key, layer, part, index)
    if shapes.of(quantity, place) is None:
        fields.fail(f"{key}.{name}", f"{name} is the bias of layers[{layer}], which is held "
                    "fixed: it has no gradient or update")
    return f"{quantity.key}.{name}", place, value


def _printed(fields: Fields, value, key, shape):
    """Yield (index, printed string) for every element of a value of the given shape; an empty
    string stands for a number that was not printed and is skipped."""
    if not shape:
        if not isinstance(value, str):
            fields.fail(key, f"expected the figure as a string such as \"0.16\" (so that its "
                             f"printed precision is kept), got {kind(value)}")
        if value == "":
            return
        try:
            parse_printed(value)
        except ValueError as exc:
            fields.fail(key, str(exc))
        yield (), value
        return
    if not isinstance(value, list) or len(value) != shape[0]:
        got = f"{len(value)} entries" if isinstance(value, list) else kind(value)
        fields.fail(key, f"expected an array of {shape[0]} entries (shape "
                         f"{'x'.join(map(str, shape))}), got {got}")
    for i, item in enumerate(value):
        for index, text in _printed(fields, item, f"{key}[{i}]", shape[1:]):
            yield (i, *index), text
