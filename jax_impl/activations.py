"""Activations f(z) as JAX operations. No derivatives here: autograd supplies them.

``jax.nn.relu`` has relu'(0) = 0; ``jax.nn.sigmoid`` and ``jnp.tanh`` do not overflow for large |z|.
"""

import jax
import jax.numpy as jnp


def identity(z):
    return z


FUNCTIONS = {
    "identity": identity,
    "relu": jax.nn.relu,
    "sigmoid": jax.nn.sigmoid,
    "tanh": jnp.tanh,
}
