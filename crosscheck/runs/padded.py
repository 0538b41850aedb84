"""Groups of networks of many architectures as one padded stack, and results to and from it.

``reference/padded.py`` states what a padded stack is. Here the sweep's groups (each a stack of
one architecture, with its data) are written into one ``Padded`` stack, row after row; a
Result computed on the groups one by one (the NumPy reference's, and its magnitudes) is written
into the same rows and slots, so that one comparison judges every network at once; and a place
in the padded stack is read back as the layer of its own network.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crosscheck.compare.quantities import Parameters, Place, Result
from reference.padded import LOSS_FORMS, Padded
from reference.types import ACTIVATIONS, RULES, loss_form


def pad(groups, shape: tuple[int, int, int], dtype: str, networks: int | None = None) -> Padded:
    """One Padded stack of depth, width and samples ``shape`` holding every network of
    ``groups`` ((architecture, (stack, X, T)) pairs) in order, then zero networks (all slots
    inactive, no samples: loss 0, gradients 0) up to ``networks`` rows."""
    depth, width, samples = shape
    count = sum(len(X) for _, (_, X, _) in groups)
    N = count if networks is None else networks
    padded = Padded(
        np.zeros((N, depth, width, width), dtype), np.zeros((N, depth, width), dtype),
        np.zeros((N, depth), bool), np.zeros((N, depth), np.int8), np.zeros((N, depth), bool),
        np.zeros((N, depth, width), bool), np.zeros((N, samples, width), dtype),
        np.zeros((N, samples, width), dtype), np.zeros((N, samples), bool),
        np.zeros(N, np.int8), np.zeros(N, np.int8), np.zeros(N, dtype))
    start = 0
    for arch, (stack, X, T) in groups:
        rows = slice(start, start + len(X))
        start += len(X)
        first = depth - len(stack)
        for slot, layer in enumerate(stack, start=first):
            outputs, inputs = layer.weights.shape[1:]
            padded.weights[rows, slot, :outputs, :inputs] = layer.weights
            if layer.bias is not None:
                padded.biases[rows, slot, :outputs] = layer.bias
            padded.train_bias[rows, slot] = layer.bias is not None and layer.train_bias
            padded.activations[rows, slot] = ACTIVATIONS.index(layer.activation)
            padded.neurons[rows, slot, :outputs] = True
        padded.active[rows, first:] = True
        padded.X[rows, :X.shape[1], :X.shape[2]] = X
        padded.T[rows, :T.shape[1], :T.shape[2]] = T
        padded.samples[rows, :X.shape[1]] = True
        padded.losses[rows] = LOSS_FORMS.index(loss_form(arch.loss, stack[-1].activation))
        padded.rules[rows] = RULES.index(arch.rule)
        padded.lr[rows] = arch.learning_rate
    return padded


def pad_results(results: list[Result], padded: Padded) -> Result:
    """The stacked Results of the groups, in the order ``pad`` wrote them, as one Result in
    the padded stack's rows and slots (zero everywhere else, and where a bias is None)."""
    N, depth, width, _ = padded.weights.shape
    dtype, samples = padded.X.dtype, padded.X.shape[1]
    loss_before, losses = np.zeros(N, dtype), np.zeros((N, 1), dtype)
    grads = [Parameters(np.zeros((N, width, width), dtype), np.zeros((N, width), dtype))
             for _ in range(depth)]
    after = _copies(grads)
    errors = [np.zeros((N, samples, width), dtype) for _ in range(depth)]
    start = 0
    for result in results:
        rows = slice(start, start + len(np.atleast_1d(result.loss_before)))
        start = rows.stop
        loss_before[rows], losses[rows] = result.loss_before, result.losses
        first = depth - len(result.errors)
        for slot, (g, e, p) in enumerate(zip(result.gradients, result.errors,
                                             result.params_after), start=first):
            _put(grads[slot], rows, g)
            _put(after[slot], rows, p)
            errors[slot][rows, :e.shape[1], :e.shape[2]] = e
    return Result(loss_before, tuple(grads), tuple(errors), tuple(after), losses)


def _copies(params):
    return [Parameters(p.weights.copy(), p.bias.copy()) for p in params]


def _put(target: Parameters, rows, source: Parameters) -> None:
    outputs, inputs = np.shape(source.weights)[1:]
    target.weights[rows, :outputs, :inputs] = source.weights
    if source.bias is not None:
        target.bias[rows, :outputs] = source.bias


def own_place(place: Place, padded: Padded, row: int) -> Place:
    """A place in the padded stack's row ``row`` as the place in that network's own layers, or,
    outside them (a framework's nonzero padding), the slot's place marked "(padding)"."""
    if place.layer is None:
        return place
    first = int(np.argmax(padded.active[row]))
    if place.layer < first or not _real(place, padded, row):
        return dataclasses.replace(place, quantity=f"{place.quantity} (padding)")
    return dataclasses.replace(place, layer=place.layer - first)


def _real(place: Place, padded: Padded, row: int) -> bool:
    """Whether an index of an active slot names a real neuron (and, for an error, a real
    sample; for a weight above the first layer, a real input)."""
    neurons, index = padded.neurons[row, place.layer], place.index
    if place.quantity == "errors":
        return bool(padded.samples[row, index[0]] and neurons[index[1]])
    below = padded.neurons[row, place.layer - 1] if place.layer > 0 \
        and padded.active[row, place.layer - 1] else None
    inputs_real = below is None or place.part != "weights" or bool(below[index[1]])
    return bool(neurons[index[0]]) and inputs_real


__all__ = ["own_place", "pad", "pad_results"]
