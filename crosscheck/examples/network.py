"""An example file's ``[[layers]]`` and ``[data]``: the network, its names, the data."""

from __future__ import annotations

import numpy as np

from crosscheck.examples.fields import ExampleError, Fields, kind
from crosscheck.examples.names import Names
from reference.types import ACTIVATIONS, LOSS_OUTPUTS, Layer, check_targets

MAX_WEIGHTS = 10_000_000
MAX_SAMPLES = 1_000_000

LAYER_KEYS = {"activation", "weights", "bias", "train_bias", "names", "bias_names", "neurons"}
DATA_KEYS = {"inputs", "targets"}
SINGLE_BRACKETS = ("written [layers], with one pair of brackets, which TOML reads as a single "
                   "table; write each layer as [[layers]], with two pairs, first hidden layer "
                   "first")
TRANSPOSED = ("; it looks transposed: written (inputs, outputs), as seed 002 writes x·W? Write "
              "row j as the weights into neuron j, or add layout = \"inputs-outputs\" at the "
              "top of the file")


def inputs(fields: Fields, doc) -> np.ndarray:
    """``data.inputs``, after the ``[data]`` table's own checks."""
    if "data" not in doc:
        fields.fail("data", "missing (required): a table with inputs and targets")
    fields.keys(doc["data"], "data", DATA_KEYS)
    for key in ("inputs", "targets"):
        if key not in doc["data"]:
            fields.fail(f"data.{key}", "missing (required)")
    if isinstance(doc["data"]["inputs"], list) and len(doc["data"]["inputs"]) > MAX_SAMPLES:
        fields.fail("data.inputs", f"more than {MAX_SAMPLES} samples")
    return fields.matrix(doc["data"]["inputs"], "data.inputs")


def targets(fields: Fields, doc, samples: int, layers, loss: str) -> np.ndarray:
    """``data.targets``: one row per sample, or for cross-entropy one class label per sample
    (``[0, 2, 1]``), read as one-hot rows; checked against what the loss accepts."""
    outputs, raw = layers[-1].weights.shape[0], doc["data"]["targets"]
    if loss in LOSS_OUTPUTS and loss.startswith("cross_entropy") and _labels(raw):
        return _one_hot(fields, raw, samples, outputs)
    targets = fields.matrix(
        raw, "data.targets", rows=samples,
        rows_why=" (one per row of data.inputs)", columns=outputs,
        columns_why=f" to match the outputs of layers[{len(layers) - 1}] ({outputs})")
    try:
        check_targets(loss, targets)
    except ValueError as exc:
        fields.fail("data.targets", str(exc))
    return targets


def _labels(raw) -> bool:
    return isinstance(raw, list) and bool(raw) and all(
        isinstance(k, int) and not isinstance(k, bool) for k in raw)


def _one_hot(fields: Fields, labels, samples: int, outputs: int) -> np.ndarray:
    if len(labels) != samples:
        fields.fail("data.targets", f"expected {samples} class labels (one per row of "
                                    f"data.inputs), got {len(labels)}")
    for i, label in enumerate(labels):
        if not 0 <= label < outputs:
            fields.fail(f"data.targets[{i}]", f"class label {label} is not one of the "
                                              f"{outputs} outputs (0 to {outputs - 1})")
    return np.eye(outputs)[labels]


def layers(fields: Fields, doc, n_inputs: int, samples: int, transposed: bool = False):
    """(the Network, its Names) from the ``[[layers]]`` tables; ``transposed``: the file
    writes each layer's weights and their names as (inputs, outputs)."""
    if "layers" not in doc:
        fields.fail("layers", "missing (required): one [[layers]] table per layer")
    tables = doc["layers"]
    if isinstance(tables, dict):
        fields.fail("layers", SINGLE_BRACKETS)
    if not isinstance(tables, list) or not tables:
        fields.fail("layers", f"expected one or more [[layers]] tables, got {kind(tables)}")
    net, weight_names, bias_names, neuron_names = [], [], [], []
    total = 0
    for i, table in enumerate(tables):
        key = f"layers[{i}]"
        fields.keys(table, key, LAYER_KEYS)
        raw = table.get("weights")
        if isinstance(raw, list):
            total += sum(len(r) for r in raw if isinstance(r, list))
        if total > MAX_WEIGHTS:
            fields.fail(f"{key}.weights", f"more than {MAX_WEIGHTS} weights in the network")
        layer = _layer(fields, table, key, n_inputs, i, transposed)
        net.append(layer)
        outputs = layer.weights.shape[0]
        weight_names.append(_weight_names(fields, table, key, layer.weights.shape, transposed))
        bias_names.append(fields.names(table, f"{key}.bias_names", "bias_names", (outputs,)))
        if bias_names[-1] is not None and layer.bias is None:
            fields.fail(f"{key}.bias_names", "given, but the layer has no bias")
        neuron_names.append(fields.names(table, f"{key}.neurons", "neurons", (outputs,)))
        n_inputs = outputs
    labels = [n for names in weight_names + bias_names if names for n in _flat(names)]
    duplicate = next((n for n in labels if labels.count(n) > 1), None)
    if duplicate:
        fields.fail("layers", f"the name {duplicate!r} labels two parameters")
    return tuple(net), Names(tuple(weight_names), tuple(bias_names), tuple(neuron_names),
                             samples)


def _layer(fields: Fields, table, key: str, n_inputs: int, i: int, transposed: bool) -> Layer:
    activation = fields.choice(table, "activation", ACTIVATIONS, True, where=f"{key}.")
    if "weights" not in table:
        fields.fail(f"{key}.weights", "missing (required)")
    why = (f" to match the width of data.inputs ({n_inputs})" if i == 0
           else f" to match layers[{i - 1}] outputs ({n_inputs})")
    if transposed:       # layout = "inputs-outputs": one row per input
        weights = fields.matrix(table["weights"], f"{key}.weights", rows=n_inputs,
                                rows_why=why + ', layout = "inputs-outputs"').T.copy()
    else:
        weights = _weights(fields, table["weights"], f"{key}.weights", n_inputs, why)
    bias = None
    if "bias" in table:
        fields.vector(table["bias"], f"{key}.bias", weights.shape[0],
                      f"numbers (one per row of {key}.weights)")
        bias = np.array([fields.number(b, f"{key}.bias[{j}]")
                         for j, b in enumerate(table["bias"])])
    train_bias = table.get("train_bias", True)
    if not isinstance(train_bias, bool):
        fields.fail(f"{key}.train_bias", f"expected true or false, got {kind(train_bias)}")
    if "train_bias" in table and bias is None:
        fields.fail(f"{key}.train_bias", "given, but the layer has no bias")
    return Layer(weights, bias, activation, train_bias)


def _weights(fields: Fields, raw, key: str, n_inputs: int, why: str) -> np.ndarray:
    """A layer's (outputs, inputs) weights; where they do not fit but their transpose would,
    the message says so."""
    try:
        return fields.matrix(raw, key, columns=n_inputs, columns_why=why)
    except ExampleError as exc:
        rows = raw if isinstance(raw, list) and all(isinstance(r, list) for r in raw) else []
        widths = {len(row) for row in rows}
        if len(rows) == n_inputs and len(widths) == 1 and widths != {n_inputs}:
            raise ExampleError(exc.file, exc.key, exc.message + TRANSPOSED) from None
        raise


def _weight_names(fields: Fields, table, key: str, shape, transposed: bool):
    """The names of a layer's weights, like the weights (read transposed with them)."""
    if not transposed:
        return fields.names(table, f"{key}.names", "names", shape)
    names = fields.names(table, f"{key}.names", "names", shape[::-1])
    return None if names is None else tuple(zip(*names))


def _flat(names):
    return [n for row in names for n in (row if isinstance(row, tuple) else (row,))]
