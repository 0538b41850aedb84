"""Losses E(a_L, T) as JAX/optax operations. No output error here: autograd supplies −∂E/∂a_L."""

import optax


def half_sse(outputs, targets):
    return optax.l2_loss(outputs, targets).sum()


def sse(outputs, targets):
    return optax.squared_error(outputs, targets).sum()


def mse(outputs, targets):
    return optax.squared_error(outputs, targets).mean()


FUNCTIONS = {
    "half_sse": half_sse,
    "sse": sse,
    "mse": mse,
}
