"""Losses E(a_L, T) as JAX/optax operations. No output error here: autograd supplies −∂E/∂a_L.

Keys as in ``reference/losses.py``. Each loss is optax's own (``l2_loss``, ``squared_error``,
``softmax_cross_entropy``, ``sigmoid_binary_cross_entropy``), reduced here: optax returns one
value per example (or per element) and leaves the mean to its caller. optax has no loss on
probabilities, so BCELoss is written here as torch computes it, forward and backward.
"""

import jax
import jax.numpy as jnp
import optax

# BCELoss's bounds, as in reference/losses.py: log p ≥ −100, p(1 − p) ≥ 1e-12 (a C float) in
# the backward.
LOG_FLOOR = -100.0
SLOPE_FLOOR = float(jnp.float32(1e-12))


# --8<-- [start:classification]
def _cross_entropy_terms(outputs, targets):
    """The summands of optax.softmax_cross_entropy, one per class: −t·log p."""
    return -targets * jax.nn.log_softmax(outputs)


@jax.custom_vjp
def _bce(outputs, targets):
    """torch's BCELoss per element: −(t·log p + (1 − t)·log(1 − p)), each log ≥ −100."""
    return -(targets * jnp.maximum(jnp.log(outputs), LOG_FLOOR)
             + (1 - targets) * jnp.maximum(jnp.log1p(-outputs), LOG_FLOOR))


def _bce_forward(outputs, targets):
    return _bce(outputs, targets), (outputs, targets)


def _bce_backward(saved, cotangent):
    # torch's derivative, not that of the bounded logs (which is 0 where a bound holds).
    outputs, targets = saved
    slope = jnp.maximum(outputs * (1 - outputs), SLOPE_FLOOR)
    return cotangent * (outputs - targets) / slope, jnp.zeros_like(targets)


_bce.defvjp(_bce_forward, _bce_backward)
# --8<-- [end:classification]


def _per_element(each):
    return lambda outputs, targets: each(outputs, targets) / outputs.size


FUNCTIONS = {
    "half_sse": lambda outputs, targets: optax.l2_loss(outputs, targets).sum(),
    "sse": lambda outputs, targets: optax.squared_error(outputs, targets).sum(),
    "mse": lambda outputs, targets: optax.squared_error(outputs, targets).mean(),
    "cross_entropy": lambda outputs, targets:
        optax.softmax_cross_entropy(outputs, targets).mean(),
    "cross_entropy_sum": lambda outputs, targets:
        optax.softmax_cross_entropy(outputs, targets).sum(),
    "binary_cross_entropy": lambda outputs, targets:
        optax.sigmoid_binary_cross_entropy(outputs, targets).mean(),
    "binary_cross_entropy_sum": lambda outputs, targets:
        optax.sigmoid_binary_cross_entropy(outputs, targets).sum(),
    "binary_cross_entropy@sigmoid": lambda outputs, targets: _bce(outputs, targets).mean(),
    "binary_cross_entropy_sum@sigmoid": lambda outputs, targets: _bce(outputs, targets).sum(),
}

# Each sample's and output's term of E, scaled as E is.
TERMS = {
    "half_sse": optax.l2_loss,
    "sse": optax.squared_error,
    "mse": _per_element(optax.squared_error),
    "cross_entropy": lambda outputs, targets:
        _cross_entropy_terms(outputs, targets) / outputs.shape[0],
    "cross_entropy_sum": _cross_entropy_terms,
    "binary_cross_entropy": _per_element(optax.sigmoid_binary_cross_entropy),
    "binary_cross_entropy_sum": optax.sigmoid_binary_cross_entropy,
    "binary_cross_entropy@sigmoid": _per_element(_bce),
    "binary_cross_entropy_sum@sigmoid": _bce,
}

# Each loss's summands before any reduction: per element, or per sample for cross-entropy
# (optax's softmax_cross_entropy sums a sample's classes). Padded stacks reduce them themselves
# (jax_impl/padded.py).
SUMMANDS = {
    "half_sse": optax.l2_loss,
    "sse": optax.squared_error,
    "mse": optax.squared_error,
    "cross_entropy": optax.softmax_cross_entropy,
    "cross_entropy_sum": optax.softmax_cross_entropy,
    "binary_cross_entropy": optax.sigmoid_binary_cross_entropy,
    "binary_cross_entropy_sum": optax.sigmoid_binary_cross_entropy,
    "binary_cross_entropy@sigmoid": _bce,
    "binary_cross_entropy_sum@sigmoid": _bce,
}
