"""The PyTorch backend: the contract of ``reference/__init__.py``, computed with torch autograd.

Same names, signatures and NumPy-in/NumPy-out conventions as ``reference``; the contract itself
is stated once, in ``reference/__init__.py``. Gradients come from ``torch.autograd`` and every
update from ``torch.optim.SGD``; the rules ``raw_error`` and ``proportional`` replace only the
input vector–Jacobian product of a dense layer (``torch_impl.backprop._RuledDense``).
"""

from reference.optimizers import Optimizer
from reference.types import (
    ACTIVATIONS,
    DTYPES,
    LOSSES,
    MODES,
    RULES,
    RULES_NEEDING_LR,
    Gradients,
    Intermediates,
    Layer,
    Network,
    RuleUndefined,
    StackedStep,
    Supports,
    as_network,
)
from torch_impl.backprop import (
    forward,
    gradients,
    intermediates,
    loss,
    refuse_optimizer,
    stacked_step,
    step,
    train,
)
from torch_impl.padded import padded_step

NAME = "torch"
SUPPORTS = Supports()


def version() -> str:
    """The version of the framework behind this backend (see reference/__init__.py)."""
    import torch

    return str(torch.__version__)


__all__ = [
    "ACTIVATIONS", "DTYPES", "LOSSES", "MODES", "NAME", "RULES", "RULES_NEEDING_LR", "SUPPORTS",
    "Gradients", "Intermediates", "Layer", "Network", "Optimizer", "RuleUndefined",
    "StackedStep", "Supports", "as_network", "forward", "gradients", "intermediates", "loss",
    "padded_step", "refuse_optimizer", "stacked_step", "step", "train", "version",
]
