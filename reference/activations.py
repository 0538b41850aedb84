"""Activations f(z) and their derivatives f'(z), written for one array of pre-activations z.

A derivative is given z and also a = f(z), which the forward pass has already computed: the
sigmoid's slope is the tutorials' o(1 − o) and tanh's is 1 − a², with no second exponential.

Sigmoid and tanh neither overflow nor warn for |z| up to 1e4 (and far beyond): the sigmoid never
exponentiates a positive number. relu'(0) = 0, as in PyTorch and JAX.
"""

import numpy as np


def identity(z):
    return z


def identity_prime(z, a):
    return np.ones_like(z)


def relu(z):
    return np.maximum(z, 0)


def relu_prime(z, a):
    return (z > 0).astype(z.dtype)


# --8<-- [start:sigmoid]
def sigmoid(z):
    # 1 / (1 + e^{−z}) for z ≥ 0 and e^{z} / (1 + e^{z}) for z < 0, in one expression whose
    # exponents are never positive.
    return np.exp(np.minimum(z, 0)) / (1 + np.exp(-np.abs(z)))


def sigmoid_prime(z, a):
    return a * (1 - a)
# --8<-- [end:sigmoid]


def tanh(z):
    return np.tanh(z)


def tanh_prime(z, a):
    return 1 - a**2


FUNCTIONS = {
    "identity": (identity, identity_prime),
    "relu": (relu, relu_prime),
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
}
