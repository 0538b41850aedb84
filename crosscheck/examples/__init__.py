"""Example files (TOML): the loader that validates every key, and the shipped examples.

The format is documented in ``docs/example-format.md``. Every problem is one ``ExampleError``
whose text names the file and the key, e.g.
``my.toml: layers[1].weights: expected 2 columns per row to match layers[0] outputs (2), got 3``.
Nothing that fails validation reaches a backend, so a bad file is never a traceback or a NaN.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from crosscheck.figures import parse_printed
from reference.types import ACTIVATIONS, LOSSES, MODES, RULES, Layer

EXAMPLES_DIR = Path(__file__).with_name("examples")

MAX_WEIGHTS = 10_000_000
MAX_SAMPLES = 1_000_000
MAX_STEPS = 10_000_000

TOP_KEYS = {"name", "title", "source", "loss", "learning_rate", "steps", "mode", "rule",
            "layers", "data", "expected", "errata"}
LAYER_KEYS = {"activation", "weights", "bias", "train_bias", "names", "bias_names", "neurons"}
DATA_KEYS = {"inputs", "targets"}

# The quantities a published figure may name, by the shape of their value in the file.
SCALARS = ("loss_before", "loss_after")
MATRICES = ("outputs_before", "outputs_after", "output_gradient")
PER_LAYER = ("activations_before", "activations_after", "errors")
PARAMETERS = ("gradients", "updates", "params_after")
QUANTITIES = SCALARS + MATRICES + PER_LAYER + PARAMETERS


class UnknownExample(LookupError):
    """An example name that no shipped file has."""


class ExampleError(ValueError):
    """A problem in an example file: ``file: key: message``."""

    def __init__(self, file: str, key: str, message: str):
        self.file, self.key, self.message = file, key, message
        super().__init__(f"{file}: {key}: {message}" if key else f"{file}: {message}")


@dataclass(frozen=True)
class Figure:
    """One published number: where it lives in a result, and how it was printed."""

    key: str                 # canonical path, e.g. "params_after.w5" or "outputs_before[0][0]"
    quantity: str            # one of QUANTITIES
    layer: int | None        # layer index for per-layer and parameter quantities
    part: str | None         # "weights" or "bias" for parameter quantities
    index: tuple[int, ...]   # index into the array
    printed: str             # the figure as printed
    erratum: bool            # True when it comes from [errata]
    label: str               # what a reader calls it: "w5", "h1 (sample 0)", "loss before"


@dataclass(frozen=True)
class Example:
    """A validated example: the network, the data, the training settings and the figures."""

    path: str
    name: str
    title: str
    source: str
    loss: str
    learning_rate: float
    steps: int
    mode: str
    rule: str
    layers: tuple[Layer, ...]
    inputs: np.ndarray
    targets: np.ndarray
    weight_names: tuple[tuple[tuple[str, ...], ...] | None, ...]
    bias_names: tuple[tuple[str, ...] | None, ...]
    neuron_names: tuple[tuple[str, ...] | None, ...]
    figures: tuple[Figure, ...]


def shipped() -> list[Path]:
    """The example files that ship with the project, in name order."""
    return sorted(EXAMPLES_DIR.glob("*.toml"))


def find(name: str) -> Path:
    """The shipped file of an example name; UnknownExample naming the closest if unknown."""
    paths = {path.stem: path for path in shipped()}
    if name in paths:
        return paths[name]
    import difflib

    close = difflib.get_close_matches(name, list(paths), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(paths)}"
    raise UnknownExample(f"unknown example {name!r}{hint}")


def load(path: str | Path) -> Example:
    """Read and validate one example file; raise ExampleError naming the file and the key."""
    path = Path(path)
    file = path.name if path.parent == EXAMPLES_DIR else str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExampleError(file, "", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ExampleError(file, "", f"not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ExampleError(file, "", f"TOML does not parse: {exc}") from None
    except RecursionError:
        raise ExampleError(file, "", "TOML nested too deeply to read") from None
    except ValueError as exc:       # e.g. an integer of thousands of digits
        raise ExampleError(file, "", f"TOML does not parse: {exc}") from None
    return _Reader(file).example(str(path), doc)


class _Reader:
    """Validation, one method per part of the file; each failure names file and key."""

    def __init__(self, file: str):
        self.file = file

    def fail(self, key: str, message: str):
        raise ExampleError(self.file, key, message)

    # --- scalars -------------------------------------------------------------------------------
    def string(self, doc, key, required=False, default="", where=""):
        if key not in doc:
            if required:
                self.fail(where + key, "missing (required)")
            return default
        if not isinstance(doc[key], str):
            self.fail(where + key, f"expected a string, got {_kind(doc[key])}")
        return doc[key]

    def choice(self, doc, key, allowed, required=False, default=None, where=""):
        value = self.string(doc, key, required, default, where)
        if value not in allowed:
            self.fail(where + key, f"unknown value {value!r}; expected one of {', '.join(allowed)}")
        return value

    def number(self, value, key) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(key, f"expected a number, got {_kind(value)}")
        if isinstance(value, int) and not -(2**63) <= value < 2**63:
            self.fail(key, "integer out of range (TOML integers are 64-bit)")
        if not math.isfinite(value):
            self.fail(key, f"expected a finite number, got {value}")
        return float(value)

    def keys(self, table, key, allowed):
        if not isinstance(table, dict):
            self.fail(key, f"expected a table, got {_kind(table)}")
        unknown = sorted(set(table) - allowed)
        if unknown:
            where = f"{key}.{unknown[0]}" if key else unknown[0]
            self.fail(where, f"unknown key; expected one of {', '.join(sorted(allowed))}")

    # --- arrays --------------------------------------------------------------------------------
    def vector(self, value, key, length=None, what="numbers"):
        if not isinstance(value, list) or not value:
            self.fail(key, f"expected a non-empty array of {what}, got {_kind(value)}")
        if length is not None and len(value) != length:
            self.fail(key, f"expected {length} entries, got {len(value)}")
        return value

    def matrix(self, value, key, columns=None, columns_why="", rows=None, rows_why=""):
        """A rectangular, non-empty array of arrays of finite numbers, as float64."""
        if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
            self.fail(key, f"expected a non-empty array of rows (arrays of numbers), got "
                           f"{_kind(value)}")
        if rows is not None and len(value) != rows:
            self.fail(key, f"expected {rows} rows{rows_why}, got {len(value)}")
        width = columns if columns is not None else len(value[0])
        for r, row in enumerate(value):
            if len(row) != width:
                why = columns_why if columns is not None else " (the width of row 0)"
                self.fail(f"{key}[{r}]" if columns is None else key,
                          f"expected {width} columns per row{why}, got {len(row)}"
                          + ("" if columns is None else f" in row {r}"))
            if width == 0:
                self.fail(f"{key}[{r}]", "expected at least one number per row")
            for c, item in enumerate(row):
                self.number(item, f"{key}[{r}][{c}]")
        return np.array(value, dtype=np.float64)

    # --- the whole file ------------------------------------------------------------------------
    def example(self, path: str, doc: dict) -> Example:
        self.keys(doc, "", TOP_KEYS)
        name = self.string(doc, "name", required=True)
        if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
            self.fail("name", f"{name!r}: use lowercase letters, digits and single '-'")
        loss = self.choice(doc, "loss", LOSSES, required=True)
        if "learning_rate" not in doc:
            self.fail("learning_rate", "missing (required)")
        lr = self.number(doc["learning_rate"], "learning_rate")
        if lr <= 0:
            self.fail("learning_rate", f"must be > 0, got {doc['learning_rate']}")
        steps = doc.get("steps", 1)
        if isinstance(steps, bool) or not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
            self.fail("steps", f"expected an integer from 1 to {MAX_STEPS}, got {steps!r}")
        mode = self.choice(doc, "mode", MODES, default="batch")
        rule = self.choice(doc, "rule", RULES, default="exact")

        if "data" not in doc:
            self.fail("data", "missing (required): a table with inputs and targets")
        self.keys(doc["data"], "data", DATA_KEYS)
        for key in ("inputs", "targets"):
            if key not in doc["data"]:
                self.fail(f"data.{key}", "missing (required)")
        if isinstance(doc["data"]["inputs"], list) and len(doc["data"]["inputs"]) > MAX_SAMPLES:
            self.fail("data.inputs", f"more than {MAX_SAMPLES} samples")
        inputs = self.matrix(doc["data"]["inputs"], "data.inputs")

        layers, weight_names, bias_names, neuron_names = self.layers(doc, inputs.shape[1])
        targets = self.matrix(
            doc["data"]["targets"], "data.targets",
            rows=inputs.shape[0], rows_why=" (one per row of data.inputs)",
            columns=layers[-1].weights.shape[0],
            columns_why=f" to match the outputs of layers[{len(layers) - 1}]"
                        f" ({layers[-1].weights.shape[0]})")

        shapes = _Shapes(layers, inputs.shape[0], weight_names, bias_names, neuron_names)
        figures = []
        for section, erratum in (("expected", False), ("errata", True)):
            if section in doc:
                figures += self.figures(doc[section], section, erratum, shapes)
        seen = {}
        for figure in figures:
            place = (figure.quantity, figure.layer, figure.part, figure.index)
            if place in seen:
                first = seen[place]
                section = "errata" if figure.erratum else "expected"
                where = ("also given in [expected]; a printed figure is either expected to hold "
                         "or an erratum, not both" if figure.erratum != first.erratum
                         else f"the same number as {first.key}")
                self.fail(f"{section}.{figure.key}", where)
            seen[place] = figure

        return Example(
            path=path, name=name, title=self.string(doc, "title"),
            source=self.string(doc, "source"), loss=loss, learning_rate=lr, steps=steps,
            mode=mode, rule=rule, layers=tuple(layers), inputs=inputs, targets=targets,
            weight_names=tuple(weight_names), bias_names=tuple(bias_names),
            neuron_names=tuple(neuron_names), figures=tuple(figures))

    def layers(self, doc, n_inputs):
        if "layers" not in doc:
            self.fail("layers", "missing (required): one [[layers]] table per layer")
        tables = doc["layers"]
        if not isinstance(tables, list) or not tables:
            self.fail("layers", f"expected one or more [[layers]] tables, got {_kind(tables)}")
        layers, weight_names, bias_names, neuron_names = [], [], [], []
        total = 0
        for i, table in enumerate(tables):
            key = f"layers[{i}]"
            self.keys(table, key, LAYER_KEYS)
            activation = self.choice(table, "activation", ACTIVATIONS, True, where=f"{key}.")
            if "weights" not in table:
                self.fail(f"{key}.weights", "missing (required)")
            if i == 0:
                why = f" to match the width of data.inputs ({n_inputs})"
            else:
                why = f" to match layers[{i - 1}] outputs ({n_inputs})"
            raw = table["weights"]
            if isinstance(raw, list):
                total += sum(len(r) for r in raw if isinstance(r, list))
            if total > MAX_WEIGHTS:
                self.fail(f"{key}.weights", f"more than {MAX_WEIGHTS} weights in the network")
            weights = self.matrix(raw, f"{key}.weights", columns=n_inputs, columns_why=why)
            outputs = weights.shape[0]
            bias = None
            if "bias" in table:
                self.vector(table["bias"], f"{key}.bias", outputs,
                            f"numbers (one per row of {key}.weights)")
                bias = np.array([self.number(b, f"{key}.bias[{j}]")
                                 for j, b in enumerate(table["bias"])])
            train_bias = table.get("train_bias", True)
            if not isinstance(train_bias, bool):
                self.fail(f"{key}.train_bias", f"expected true or false, got {_kind(train_bias)}")
            if "train_bias" in table and bias is None:
                self.fail(f"{key}.train_bias", "given, but the layer has no bias")
            layers.append(Layer(weights, bias, activation, train_bias))
            weight_names.append(self.names(table, f"{key}.names", "names", weights.shape))
            bias_names.append(self.names(table, f"{key}.bias_names", "bias_names", (outputs,)))
            if bias_names[-1] is not None and bias is None:
                self.fail(f"{key}.bias_names", "given, but the layer has no bias")
            neuron_names.append(self.names(table, f"{key}.neurons", "neurons", (outputs,)))
            n_inputs = outputs
        labels = [n for names in weight_names + bias_names if names for n in _flat(names)]
        duplicate = next((n for n in labels if labels.count(n) > 1), None)
        if duplicate:
            self.fail("layers", f"the name {duplicate!r} labels two parameters")
        return layers, weight_names, bias_names, neuron_names

    def names(self, table, key, field, shape):
        if field not in table:
            return None
        value = table[field]
        if len(shape) == 1:
            self.vector(value, key, shape[0], "strings")
            rows = [value]
        else:
            if not isinstance(value, list) or len(value) != shape[0]:
                self.fail(key, f"expected {shape[0]} rows of names, like the weights")
            rows = value
        for r, row in enumerate(rows):
            if not isinstance(row, list) or len(row) != shape[-1]:
                self.fail(key, f"expected {shape[-1]} names in row {r}, like the weights")
            for item in row:
                if not isinstance(item, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", item):
                    self.fail(key, f"{item!r} is not a name (letters, digits, '_')")
        return tuple(rows[0]) if len(shape) == 1 else tuple(tuple(r) for r in rows)

    # --- published figures -----------------------------------------------------------------------
    def figures(self, table, section, erratum, shapes: _Shapes) -> list[Figure]:
        """Expand one [expected] or [errata] table into one Figure per printed number."""
        self.keys(table, section, set(QUANTITIES))
        layer_keys = {str(i) for i in range(shapes.depth)}
        out = []

        def add(key, value, quantity, layer, part, shape, named=None):
            for index, printed in self.printed(value, f"{section}.{key}", shape):
                if named:
                    layer, part, index = shapes.by_name[named]
                    if shapes.param_shape(layer, part, quantity) is None:
                        self.fail(f"{section}.{key}", f"{named} is the bias of layers[{layer}], "
                                  "which is held fixed: it has no gradient or update")
                suffix = "" if named else "".join(f"[{i}]" for i in index)
                out.append(Figure(key + suffix, quantity, layer, part, index, printed, erratum,
                                  shapes.label(quantity, layer, part, index)))

        for quantity, value in table.items():
            key = f"{section}.{quantity}"
            if quantity in SCALARS:
                add(quantity, value, quantity, None, None, ())
            elif quantity in MATRICES:
                add(quantity, value, quantity, shapes.depth - 1, None, shapes.layer_out(-1))
            elif quantity in PER_LAYER:
                self.keys(value, key, layer_keys)
                for sub, matrix in value.items():
                    layer = int(sub)
                    add(f"{quantity}.{layer}", matrix, quantity, layer, None,
                        shapes.layer_out(layer))
            else:
                self.keys(value, key, layer_keys | set(shapes.by_name))
                for sub, item in value.items():
                    if sub in shapes.by_name:
                        add(f"{quantity}.{sub}", item, quantity, None, None, (), named=sub)
                        continue
                    layer = int(sub)
                    self.keys(item, f"{key}.{sub}", {"weights", "bias"})
                    for part, values in item.items():
                        shape = shapes.param_shape(layer, part, quantity)
                        if shape is None:
                            self.fail(f"{key}.{sub}.bias", f"layers[{layer}] has no bias"
                                      + ("" if quantity == "params_after" else " to train"))
                        add(f"{quantity}.{layer}.{part}", values, quantity, layer, part, shape)
        return out

    def printed(self, value, key, shape):
        """Yield (index, printed string) for every element of a value of the given shape.

        An empty string stands for a number that was not printed and is skipped.
        """
        if not shape:
            if not isinstance(value, str):
                self.fail(key, f"expected the figure as a string such as \"0.16\" (so that its "
                               f"printed precision is kept), got {_kind(value)}")
            if value == "":
                return
            try:
                parse_printed(value)
            except ValueError as exc:
                self.fail(key, str(exc))
            yield (), value
            return
        if not isinstance(value, list) or len(value) != shape[0]:
            got = f"{len(value)} entries" if isinstance(value, list) else _kind(value)
            self.fail(key, f"expected an array of {shape[0]} entries (shape "
                           f"{'x'.join(map(str, shape))}), got {got}")
        for i, item in enumerate(value):
            for index, text in self.printed(item, f"{key}[{i}]", shape[1:]):
                yield (i, *index), text


class _Shapes:
    """Shapes and names of a validated network, for checking and labelling figures."""

    def __init__(self, layers, n_samples, weight_names, bias_names, neuron_names):
        self.layers, self.n_samples, self.depth = layers, n_samples, len(layers)
        self.weight_names, self.bias_names, self.neuron_names = \
            weight_names, bias_names, neuron_names
        self.by_name = {}
        for layer, rows in enumerate(weight_names):
            for r, row in enumerate(rows or ()):
                for c, name in enumerate(row):
                    self.by_name[name] = (layer, "weights", (r, c))
        for layer, names in enumerate(bias_names):
            for j, name in enumerate(names or ()):
                self.by_name[name] = (layer, "bias", (j,))

    def layer_out(self, layer):
        return (self.n_samples, self.layers[layer].weights.shape[0])

    def param_shape(self, layer, part, quantity):
        if part == "weights":
            return self.layers[layer].weights.shape
        bias = self.layers[layer].bias
        if bias is None or (quantity != "params_after" and not self.layers[layer].train_bias):
            return None
        return bias.shape

    def label(self, quantity, layer, part, index):
        """What a reader calls the number: "w5", "∂E/∂w5", "h1 error (sample 2)", "loss after"."""
        if quantity in SCALARS:
            return quantity.replace("_", " ")
        if quantity in PARAMETERS:
            names = self.weight_names[layer] if part == "weights" else self.bias_names[layer]
            if names:
                name = names[index[0]][index[1]] if part == "weights" else names[index[0]]
            else:
                # Unnamed: W0[1,2] is layers[0].weights[1][2], b0[1] is layers[0].bias[1].
                name = (f"W{layer}[{index[0]},{index[1]}]" if part == "weights"
                        else f"b{layer}[{index[0]}]")
            return {"params_after": f"{name} after", "gradients": f"∂E/∂{name}",
                    "updates": f"η·∂E/∂{name}"}[quantity]
        sample, j = index
        names = self.neuron_names[layer]
        neuron = names[j] if names else f"a{layer}[{j}]"     # unnamed: neuron j of layers[l]
        word = {"activations_before": "", "outputs_before": "", "activations_after": " after",
                "outputs_after": " after", "errors": " error",
                "output_gradient": " ∂E/∂a"}[quantity]
        return neuron + word + (f" (sample {sample})" if self.n_samples > 1 else "")


def label(example: Example, quantity: str, layer: int | None, part: str | None, index) -> str:
    """What a reader calls a number of an example: "w5 after", "∂E/∂w5", "h1 error"."""
    shapes = _Shapes(example.layers, example.inputs.shape[0], example.weight_names,
                     example.bias_names, example.neuron_names)
    return shapes.label(quantity, layer, part, tuple(index))


def _flat(names):
    return [n for row in names for n in (row if isinstance(row, tuple) else (row,))]


def _kind(value) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, (int, float)):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ({value[:40]!r})"
    if isinstance(value, list):
        return f"an array of {len(value)}"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__
