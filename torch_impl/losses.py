"""Losses E(a_L, T) as torch operations. No output error here: autograd supplies −∂E/∂a_L.

``mse_loss`` is ``torch.nn.MSELoss``; its elementwise form, reduced over the last two axes
(samples, outputs), gives one loss per network for a stack of networks too.
"""

from torch.nn import functional


def half_sse(outputs, targets):
    return 0.5 * functional.mse_loss(outputs, targets, reduction="none").sum((-2, -1))


def sse(outputs, targets):
    return functional.mse_loss(outputs, targets, reduction="none").sum((-2, -1))


def mse(outputs, targets):
    return functional.mse_loss(outputs, targets, reduction="none").mean((-2, -1))


# Each sample's and output's term of E (MSELoss without its reduction), scaled as E is.
TERMS = {
    "half_sse": lambda outputs, targets: 0.5 * functional.mse_loss(outputs, targets,
                                                                   reduction="none"),
    "sse": lambda outputs, targets: functional.mse_loss(outputs, targets, reduction="none"),
    "mse": lambda outputs, targets: functional.mse_loss(outputs, targets, reduction="none")
    / (outputs.shape[-2] * outputs.shape[-1]),
}

FUNCTIONS = {
    "half_sse": half_sse,
    "sse": sse,
    "mse": mse,
}
