"""Losses E(a_L, T) and the output error e_L = −∂E/∂a_L, in the tutorials' sign.

The factor between them is a teaching point: ``half_sse`` gives e_L = t − a_L exactly (seeds
001 and 002), ``sse`` doubles it, ``mse`` divides by the number of elements as
``torch.nn.MSELoss()`` does by default. Outputs and targets are (samples, outputs) arrays, or
stacks of them for a stack of networks: E is taken over the last two axes.

The classification losses are those of torch.nn with its defaults, and ``_sum`` their
``reduction="sum"``. ``cross_entropy`` (``CrossEntropyLoss``) reads the output layer's values z
as logits and the targets as rows of class probabilities: E = −(1/n) Σ t·log softmax(z) over the
n samples, and e_L = (t − p)/n with p = softmax(z), the slope of the softmax having cancelled
against the log's. ``binary_cross_entropy`` is per output and averages over all elements: on
logits z (``BCEWithLogitsLoss``), e_L = (t − σ(z))/N; on probabilities p from a sigmoid output
layer (``BCELoss``, the table key ``binary_cross_entropy@sigmoid``), e_L = (t − p)/(p(1 − p))/N,
whose 1/(p(1 − p)) the sigmoid's slope p(1 − p) cancels in the output delta: δ_L = (t − p)/N
again. BCELoss bounds each log at −100 and its backward divides by max(p(1 − p), 1e-12), so a
saturated output gives a finite loss and a finite error; so does this module.
"""

import numpy as np

from reference.activations import sigmoid

# BCELoss's bounds (PyTorch's ATen Loss.cpp): log p ≥ −100, and p(1 − p) ≥ 1e-12 in the error,
# that 1e-12 being a C float (9.99999996e-13) in every dtype.
LOG_FLOOR = -100.0
SLOPE_FLOOR = float(np.float32(1e-12))


# --8<-- [start:half_sse]
def half_sse(outputs, targets):
    return 0.5 * np.sum((targets - outputs) ** 2, axis=(-2, -1))


def half_sse_error(outputs, targets):
    return targets - outputs
# --8<-- [end:half_sse]


def sse(outputs, targets):
    return np.sum((targets - outputs) ** 2, axis=(-2, -1))


def sse_error(outputs, targets):
    return 2 * (targets - outputs)


def mse(outputs, targets):
    return np.mean((targets - outputs) ** 2, axis=(-2, -1))


def mse_error(outputs, targets):
    return 2 * (targets - outputs) / (targets.shape[-2] * targets.shape[-1])


# --8<-- [start:cross_entropy]
def softmax(z):
    # Shifted by each row's maximum: the same p, and exp never overflows.
    shifted = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return shifted / np.sum(shifted, axis=-1, keepdims=True)


def log_softmax(z):
    shifted = z - np.max(z, axis=-1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=-1, keepdims=True))


def cross_entropy_terms(outputs, targets):
    """−t·log p per sample and class, summed (``cross_entropy_sum``)."""
    return -targets * log_softmax(outputs)


def cross_entropy_error(outputs, targets):
    """e_L = t − p per sample (``cross_entropy_sum``): the output delta every course derives."""
    return targets - softmax(outputs)
# --8<-- [end:cross_entropy]


# --8<-- [start:binary_cross_entropy]
def bce_logits_terms(outputs, targets):
    """BCEWithLogitsLoss per element: max(z, 0) − z·t + log(1 + e^{−|z|}), never overflowing."""
    return np.maximum(outputs, 0) - outputs * targets + np.log1p(np.exp(-np.abs(outputs)))


def bce_logits_error(outputs, targets):
    return targets - sigmoid(outputs)


def bce_terms(outputs, targets):
    """BCELoss per element: −(t·log p + (1 − t)·log(1 − p)), each log bounded below by −100."""
    with np.errstate(divide="ignore"):          # log 0 = −inf, then bounded
        log_p, log_q = np.log(outputs), np.log1p(-outputs)
    return -(targets * np.maximum(log_p, LOG_FLOOR) + (1 - targets) * np.maximum(log_q, LOG_FLOOR))


def bce_error(outputs, targets):
    return (targets - outputs) / np.maximum(outputs * (1 - outputs), SLOPE_FLOOR)
# --8<-- [end:binary_cross_entropy]


def _per_sample(terms, targets):
    return terms / targets.shape[-2]


def _per_element(terms, targets):
    return terms / (targets.shape[-2] * targets.shape[-1])


def _summed(terms, targets):
    return terms


def _classification(terms, error, scale):
    """(E, e_L, terms) of a loss whose per-element ``terms`` and ``error`` are ``scale``d: by
    1/n (the mean over samples), 1/N (over elements) or not at all (a sum)."""
    return (lambda a, t: np.sum(scale(terms(a, t), t), axis=(-2, -1)),
            lambda a, t: scale(error(a, t), t),
            lambda a, t: scale(terms(a, t), t))


_CLASSIFICATION = {
    "cross_entropy": _classification(cross_entropy_terms, cross_entropy_error, _per_sample),
    "cross_entropy_sum": _classification(cross_entropy_terms, cross_entropy_error, _summed),
    "binary_cross_entropy": _classification(bce_logits_terms, bce_logits_error, _per_element),
    "binary_cross_entropy_sum": _classification(bce_logits_terms, bce_logits_error, _summed),
    "binary_cross_entropy@sigmoid": _classification(bce_terms, bce_error, _per_element),
    "binary_cross_entropy_sum@sigmoid": _classification(bce_terms, bce_error, _summed),
}

# Each sample's and output's term of E (the terms sum to E): Mazur's E_o1 = ½(t_o1 − o1)².
TERMS = {
    "half_sse": lambda outputs, targets: 0.5 * (targets - outputs) ** 2,
    "sse": lambda outputs, targets: (targets - outputs) ** 2,
    "mse": lambda outputs, targets: (targets - outputs) ** 2 / (targets.shape[-2]
                                                               * targets.shape[-1]),
    **{form: terms for form, (_, _, terms) in _CLASSIFICATION.items()},
}

# Keyed by the loss's form (reference.types.loss_form): (E, e_L).
FUNCTIONS = {
    "half_sse": (half_sse, half_sse_error),
    "sse": (sse, sse_error),
    "mse": (mse, mse_error),
    **{form: (value, error) for form, (value, error, _) in _CLASSIFICATION.items()},
}
