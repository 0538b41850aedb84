"""An example file's ``[[layers]]`` and ``[data]``: the network, its names, the data."""

from __future__ import annotations

import numpy as np

from crosscheck.examples.fields import Fields, kind
from crosscheck.examples.names import Names
from reference.types import ACTIVATIONS, Layer

MAX_WEIGHTS = 10_000_000
MAX_SAMPLES = 1_000_000

LAYER_KEYS = {"activation", "weights", "bias", "train_bias", "names", "bias_names", "neurons"}
DATA_KEYS = {"inputs", "targets"}


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


def targets(fields: Fields, doc, samples: int, layers) -> np.ndarray:
    outputs = layers[-1].weights.shape[0]
    return fields.matrix(
        doc["data"]["targets"], "data.targets", rows=samples,
        rows_why=" (one per row of data.inputs)", columns=outputs,
        columns_why=f" to match the outputs of layers[{len(layers) - 1}] ({outputs})")


def layers(fields: Fields, doc, n_inputs: int, samples: int):
    """(the Network, its Names) from the ``[[layers]]`` tables."""
    if "layers" not in doc:
        fields.fail("layers", "missing (required): one [[layers]] table per layer")
    tables = doc["layers"]
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
        layer = _layer(fields, table, key, n_inputs, i)
        net.append(layer)
        outputs = layer.weights.shape[0]
        weight_names.append(fields.names(table, f"{key}.names", "names", layer.weights.shape))
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


def _layer(fields: Fields, table, key: str, n_inputs: int, i: int) -> Layer:
    activation = fields.choice(table, "activation", ACTIVATIONS, True, where=f"{key}.")
    if "weights" not in table:
        fields.fail(f"{key}.weights", "missing (required)")
    why = (f" to match the width of data.inputs ({n_inputs})" if i == 0
           else f" to match layers[{i - 1}] outputs ({n_inputs})")
    weights = fields.matrix(table["weights"], f"{key}.weights", columns=n_inputs,
                            columns_why=why)
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


def _flat(names):
    return [n for row in names for n in (row if isinstance(row, tuple) else (row,))]
