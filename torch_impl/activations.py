"""Activations f(z) as torch operations. No derivatives here: autograd supplies them.

``torch.relu`` has relu'(0) = 0; ``torch.sigmoid`` and ``torch.tanh`` do not overflow for large |z|.
"""

import torch


def identity(z):
    return z


FUNCTIONS = {
    "identity": identity,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}
