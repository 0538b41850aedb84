"""Groups of networks of many architectures as one padded stack, and results to and from it.

``reference/padded.py`` states what a padded stack is. Here the sweep's groups (each a stack of
one architecture, with its data) are written into one ``Padded`` stack, row after row. One
comparison then judges every network at once, on the real numbers only: ``real_entries`` says
where they lie in a padded Result's arrays (per slot, network by network), ``real_values``
takes them from a framework's padded Result, and ``real_results`` lays the Results computed on
the groups one by one (the NumPy reference's, and its magnitudes) out in the same order. A
padded entry holds no number of any network, and a framework must leave it zero: ``padding``
finds those it does not. A place in the padded stack is read back as the layer of its own
network. (About a fifth of a padded stack's entries are real in the sweep's draw.)
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crosscheck.compare.comparison import Entries
from crosscheck.compare.quantities import STACKED, Parameters, Place, Result
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


def real_entries(padded: Padded, inputs, kept) -> dict[Place, Entries]:
    """Per place of a padded stacked Result, the Entries that hold the numbers of the networks
    ``kept`` ((N,) bool) and nothing else: their real neurons, their real inputs (``inputs``,
    (N,) the first layer's count) and real samples, in their active slots."""
    N, depth, width, _ = padded.weights.shape
    rows = Entries((N,), np.flatnonzero(kept))
    entries = {Place("loss_before"): rows, Place("loss_after"): rows}
    first_inputs = below = np.arange(width) < inputs[:, None]
    for slot in range(depth):
        neurons = padded.neurons[:, slot] & kept[:, None]      # none in an inactive slot
        weights = Entries((N, width, width),
                          np.flatnonzero(neurons[:, :, None] & below[:, None, :]))
        bias = Entries((N, width), np.flatnonzero(neurons))
        for key in ("gradients", "params_after"):
            entries[Place(key, slot, "weights")], entries[Place(key, slot, "bias")] = weights, bias
        entries[Place("errors", slot)] = Entries(
            padded.X.shape, np.flatnonzero(padded.samples[:, :, None] & neurons[:, None, :]))
        # The next slot's inputs: this slot's neurons, where it is active.
        below = np.where(padded.active[:, slot, None], padded.neurons[:, slot], first_inputs)
    return entries


def real_results(results: list[Result], depth: int, kept) -> Result:
    """The stacked Results of the groups, in the order ``pad`` wrote them, as one Result of the
    numbers of the networks ``kept`` only, laid out as ``real_entries`` lays them: per slot of
    ``depth``, each network's numbers of its layer there (zeros where a bias is None)."""
    picked, start = [], 0
    for result in results:
        count = len(np.atleast_1d(result.loss_before))
        mine = kept[start : start + count]
        picked.append((result, slice(None) if mine.all() else mine,
                       depth - len(result.errors)))
        start += count

    none = np.zeros(0, np.asarray(results[0].loss_before).dtype)    # a slot no group reaches

    def joined(array_of, slot=None):
        return np.concatenate([none] + [np.asarray(array_of(result, slot - first)
                                                   if slot is not None else array_of(result))
                                        [rows].reshape(-1) for result, rows, first in picked
                                        if slot is None or slot >= first])

    def params(key):
        return tuple(Parameters(joined(lambda r, layer: getattr(r, key)[layer].weights, slot),
                                joined(lambda r, layer: _bias(getattr(r, key)[layer]), slot))
                     for slot in range(depth))

    return Result(joined(lambda r: np.atleast_1d(r.loss_before)), params("gradients"),
                  tuple(joined(lambda r, layer: r.errors[layer], slot) for slot in range(depth)),
                  params("params_after"), joined(lambda r: r.losses).reshape(-1, 1))


def _bias(params: Parameters):
    return np.zeros(params.weights.shape[:2], params.weights.dtype) if params.bias is None \
        else params.bias


def real_values(result: Result, entries: dict[Place, Entries]) -> Result:
    """A framework's padded Result as the numbers at ``entries`` only (an array of another
    shape than its Entries' is kept whole, for the comparison to report)."""
    def real(place, array):
        where = entries[place]
        array = np.asarray(array)
        return array.reshape(-1).take(where.positions) if array.shape == where.shape else array

    def params(key, value):
        return tuple(Parameters(real(Place(key, slot, "weights"), p.weights),
                                None if p.bias is None else real(Place(key, slot, "bias"), p.bias))
                     for slot, p in enumerate(value))

    return Result(real(Place("loss_before"), result.loss_before),
                  params("gradients", result.gradients),
                  tuple(real(Place("errors", slot), e) for slot, e in enumerate(result.errors)),
                  params("params_after", result.params_after),
                  _rows(result.losses, entries[Place("loss_after")]))


def _rows(array, rows: Entries):
    """The rows of ``array`` (networks first) that ``rows`` holds, if it has their number."""
    array = np.asarray(array)
    return array[rows.positions] if array.shape[:1] == rows.shape else array


def padding(result: Result, real: Result, entries: dict[Place, Entries], kept):
    """(place, Entries, values) for every array of a framework's padded Result that holds a
    nonzero number outside its ``real`` entries (``real_values``) of the networks ``kept``:
    those numbers. Counted: every nonzero number is real when the array and its real entries
    have as many."""
    found = []
    for quantity in STACKED:
        for (place, array), (_, values) in zip(quantity.leaves(quantity.value(result, 0.0)),
                                               quantity.leaves(quantity.value(real, 0.0))):
            where = entries.get(place)
            if where is None or array is None or np.shape(array) != where.shape:
                continue
            if not kept.all():          # a diverged network's numbers are not compared
                array = np.where(kept.reshape((-1,) + (1,) * (array.ndim - 1)), array, 0.0)
            flat = np.asarray(array).reshape(-1)
            if np.count_nonzero(flat) == np.count_nonzero(values):
                continue
            outside = np.setdiff1d(np.flatnonzero(flat), where.positions)
            found.append((place, Entries(where.shape, outside), flat[outside]))
    return found


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


__all__ = ["own_place", "pad", "pad_results", "padding", "real_entries", "real_results",
           "real_values"]
