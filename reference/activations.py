"""Activations f(z) and their derivatives f'(z), written for one array of pre-activations z.

Sigmoid and tanh neither overflow nor warn for |z| up to 1e4 (and far beyond): the sigmoid only
ever exponentiates −|z|. relu'(0) = 0, as in PyTorch and JAX.
"""

import numpy as np


def identity(z):
    return z


def identity_prime(z):
    return np.ones_like(z)


def relu(z):
    return np.maximum(z, 0)


def relu_prime(z):
    return (z > 0).astype(z.dtype)


# --8<-- [start:sigmoid]
def sigmoid(z):
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_prime(z):
    s = sigmoid(z)
    return s * (1 - s)
# --8<-- [end:sigmoid]


def tanh(z):
    return np.tanh(z)


def tanh_prime(z):
    return 1 - np.tanh(z) ** 2


FUNCTIONS = {
    "identity": (identity, identity_prime),
    "relu": (relu, relu_prime),
    "sigmoid": (sigmoid, sigmoid_prime),
    "tanh": (tanh, tanh_prime),
}
