"""Losses E(a_L, T) as torch operations. No output error here: autograd supplies −∂E/∂a_L.

Each loss is torch.nn's own function (``mse_loss``, ``cross_entropy``,
``binary_cross_entropy_with_logits``, ``binary_cross_entropy``) with ``reduction="none"``,
reduced over the last two axes (samples, outputs) as the defaults reduce, so that a stack of
networks gets one loss per network. Keys as in ``reference/losses.py``.
"""

from torch.nn import functional


def _squared(outputs, targets):
    return functional.mse_loss(outputs, targets, reduction="none")


# --8<-- [start:classification]
def _cross_entropy(outputs, targets):
    """CrossEntropyLoss per sample. Its classes are the last axis, so a stack of networks is
    flattened to (networks·samples, classes) and back."""
    flat = functional.cross_entropy(outputs.reshape(-1, outputs.shape[-1]),
                                    targets.reshape(-1, targets.shape[-1]), reduction="none")
    return flat.reshape(outputs.shape[:-1])


def _cross_entropy_terms(outputs, targets):
    """The summands of a sample's cross-entropy, one per class: −t·log p."""
    return -targets * functional.log_softmax(outputs, dim=-1)


def _bce_logits(outputs, targets):
    return functional.binary_cross_entropy_with_logits(outputs, targets, reduction="none")


def _bce(outputs, targets):
    return functional.binary_cross_entropy(outputs, targets, reduction="none")
# --8<-- [end:classification]


def _mean(each):
    return lambda outputs, targets: each(outputs, targets).mean((-2, -1))


def _sum(each):
    return lambda outputs, targets: each(outputs, targets).sum((-2, -1))


def _per_sample(each):
    return lambda outputs, targets: each(outputs, targets) / outputs.shape[-2]


def _per_element(each):
    return lambda outputs, targets: each(outputs, targets) / (outputs.shape[-2]
                                                              * outputs.shape[-1])


def _half_squared(outputs, targets):
    return 0.5 * _squared(outputs, targets)


FUNCTIONS = {
    "half_sse": _sum(_half_squared),
    "sse": _sum(_squared),
    "mse": _mean(_squared),
    "cross_entropy": lambda outputs, targets: _cross_entropy(outputs, targets).mean(-1),
    "cross_entropy_sum": lambda outputs, targets: _cross_entropy(outputs, targets).sum(-1),
    "binary_cross_entropy": _mean(_bce_logits),
    "binary_cross_entropy_sum": _sum(_bce_logits),
    "binary_cross_entropy@sigmoid": _mean(_bce),
    "binary_cross_entropy_sum@sigmoid": _sum(_bce),
}

# Each sample's and output's term of E (the loss without its reduction), scaled as E is.
TERMS = {
    "half_sse": _half_squared,
    "sse": _squared,
    "mse": _per_element(_squared),
    "cross_entropy": _per_sample(_cross_entropy_terms),
    "cross_entropy_sum": _cross_entropy_terms,
    "binary_cross_entropy": _per_element(_bce_logits),
    "binary_cross_entropy_sum": _bce_logits,
    "binary_cross_entropy@sigmoid": _per_element(_bce),
    "binary_cross_entropy_sum@sigmoid": _bce,
}

# Each loss's summands before any reduction: per element, or per sample for cross-entropy
# (whose samples' terms are already summed over the classes). Padded stacks reduce them
# themselves (torch_impl/padded.py).
SUMMANDS = {
    "half_sse": _half_squared,
    "sse": _squared,
    "mse": _squared,
    "cross_entropy": _cross_entropy,
    "cross_entropy_sum": _cross_entropy,
    "binary_cross_entropy": _bce_logits,
    "binary_cross_entropy_sum": _bce_logits,
    "binary_cross_entropy@sigmoid": _bce,
    "binary_cross_entropy_sum@sigmoid": _bce,
}
