"""Losses E(a_L, T) and the output error e_L = −∂E/∂a_L, in the tutorials' sign.

The factor between them is a teaching point: ``half_sse`` gives e_L = t − a_L exactly (seeds
001 and 002), ``sse`` doubles it, ``mse`` divides by the number of elements as
``torch.nn.MSELoss()`` does by default. Outputs and targets are (samples, outputs) arrays, or
stacks of them for a stack of networks: E is taken over the last two axes.
"""

import numpy as np


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


# Each sample's and output's term of E (the terms sum to E): Mazur's E_o1 = ½(t_o1 − o1)².
TERMS = {
    "half_sse": lambda outputs, targets: 0.5 * (targets - outputs) ** 2,
    "sse": lambda outputs, targets: (targets - outputs) ** 2,
    "mse": lambda outputs, targets: (targets - outputs) ** 2 / (targets.shape[-2]
                                                               * targets.shape[-1]),
}

FUNCTIONS = {
    "half_sse": (half_sse, half_sse_error),
    "sse": (sse, sse_error),
    "mse": (mse, mse_error),
}
