"""The JAX backend: the contract of ``reference/__init__.py``, computed with ``jax.grad``.

Same names, signatures and NumPy-in/NumPy-out conventions as ``reference``; the contract itself
is stated once, in ``reference/__init__.py``. Gradients come from ``jax.grad`` under ``jax.jit``
and every update from ``optax.sgd``; the rules ``raw_error`` and ``proportional`` replace only the
input vector–Jacobian product of a dense layer (a ``jax.custom_vjp``, ``jax_impl.backprop``).

Importing this package turns on ``jax_enable_x64`` so that "float64" means float64, and JAX's
persistent compilation cache in ``~/.cache/crosscheck/jax`` unless one is chosen already.
"""

import os

import jax

jax.config.update("jax_enable_x64", True)
# JAX's persistent compilation cache, unless one is chosen already (JAX_COMPILATION_CACHE_DIR):
# a padded step compiles for seconds (jax_impl/padded.py), once per machine instead of once per
# process. Only compilations of a second or more are kept.
if jax.config.jax_compilation_cache_dir is None:
    jax.config.update("jax_compilation_cache_dir", os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "crosscheck", "jax"))

from jax_impl.backprop import (  # noqa: E402
    forward,
    gradients,
    intermediates,
    loss,
    refuse_optimizer,
    stacked_step,
    step,
    train,
)
from jax_impl.padded import padded_step  # noqa: E402
from reference.optimizers import Optimizer  # noqa: E402
from reference.types import (  # noqa: E402
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

NAME = "jax"
SUPPORTS = Supports()


def version() -> str:
    """The version of the framework behind this backend (see reference/__init__.py)."""
    return jax.__version__


__all__ = [
    "ACTIVATIONS", "DTYPES", "LOSSES", "MODES", "NAME", "RULES", "RULES_NEEDING_LR", "SUPPORTS",
    "Gradients", "Intermediates", "Layer", "Network", "Optimizer", "RuleUndefined",
    "StackedStep", "Supports", "as_network", "forward", "gradients", "intermediates", "loss",
    "padded_step", "refuse_optimizer", "stacked_step", "step", "train", "version",
]
