"""Losses E(a_L, T) as JAX/optax operations. No output error here: autograd supplies −∂E/∂a_L."""

import optax


def half_sse(outputs, targets):
    return optax.l2_loss(outputs, targets).sum()


def sse(outputs, targets):
    return optax.squared_error(outputs, targets).sum()


def mse(outputs, targets):
    return optax.squared_error(outputs, targets).mean()


# Each sample's and output's term of E, scaled as E is.
TERMS = {
    "half_sse": optax.l2_loss,
    "sse": optax.squared_error,
    "mse": lambda outputs, targets: optax.squared_error(outputs, targets) / outputs.size,
}

FUNCTIONS = {
    "half_sse": half_sse,
    "sse": sse,
    "mse": mse,
}
