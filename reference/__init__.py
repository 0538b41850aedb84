"""The NumPy reference: textbook backpropagation and gradient descent, written by hand.

This package is the contract that every backend (``reference``, ``torch_impl``, ``jax_impl``)
implements with the same names and signatures. It imports nothing but NumPy.

Data
----
``Layer(weights, bias, activation, train_bias)``
    ``weights`` has shape (outputs, inputs): row j holds the weights *into* neuron j, as
    ``torch.nn.Linear`` stores them. ``bias`` has shape (outputs,) or is ``None`` (no bias).
    ``activation`` is one of ``ACTIVATIONS``. ``train_bias=False`` holds the bias fixed.
``Network``
    A tuple of Layers, first hidden layer first.
Batches
    ``X`` is (n_samples, inputs) and ``T`` is (n_samples, outputs): one sample per row.

Every argument and every result is a NumPy array (or a Python float). Computation happens in
``dtype`` ("float64" by default, or "float32"): inputs are converted on the way in, and results
come back in that dtype.

Conventions
-----------
* Forward: ``z_l = a_{l-1} W_lᵀ + b_l``, ``a_l = f_l(z_l)``, ``a_0 = X``.
* Losses (``LOSSES``): ``half_sse`` E = ½ ΣΣ (t − a_L)², ``sse`` E = ΣΣ (t − a_L)²,
  ``mse`` E = mean (t − a_L)² over all elements (``torch.nn.MSELoss()``);
  ``cross_entropy`` (``torch.nn.CrossEntropyLoss()``: the softmax of an ``identity`` output
  layer's logits, T rows of class probabilities, the mean over samples) and
  ``binary_cross_entropy`` (per output, the mean over all elements: ``BCEWithLogitsLoss()`` on an
  ``identity`` output layer, ``BCELoss()`` on a ``sigmoid`` one, T in [0, 1]), with their sums
  ``cross_entropy_sum`` and ``binary_cross_entropy_sum``. Any other output layer or targets for
  them is a ``ValueError``.
* Errors use the tutorials' sign: the output error is ``e_L = −∂E/∂a_L`` (= t − a_L for
  ``half_sse``). Gradients use the calculus sign, ``∂E/∂W``; a step is ``W ← W − η·g``.
* Every rule (``RULES``) computes, for each layer, ``delta_l = e_l ⊙ f_l'(z_l)``,
  ``g_W = −delta_lᵀ a_{l−1}`` and ``g_b = −Σ_samples delta_l``. The rules differ only in how the
  error reaches the layer below, with the weights as they were before the step (except in
  ``raw_error_new_weights``, which uses them after it):

  ``exact``         e_{l−1} = delta_l W_l        (the chain rule; what autograd computes)
  ``raw_error``     e_{l−1} = e_l W_l            (seed 000's Hᵀ·E, seed 001's who.T · e)
  ``proportional``  e_{l−1,i} = Σ_j w_ji / (Σ_k w_jk) · e_{l,j}   (seed 000/001, first form)
  ``raw_error_new_weights``  e_{l−1} = e_l (W_l − η g_W)  (raw_error with the update order of
                    Toy-Neural-Network-JS: each layer is updated before its error goes back)

  ``proportional`` raises ``RuleUndefined`` when a neuron's incoming weights sum to zero.
  ``raw_error_new_weights`` needs the learning rate η even in ``gradients`` (``lr=``).
* Modes (``MODES``): ``batch`` makes one update per step from the loss summed over all samples;
  ``online`` makes one update per sample, in order, and a step is one pass over the data.

Functions
---------
``forward(net, X, dtype)``
    -> tuple of the activations ``a_1 … a_L``, each (n_samples, width).
``loss(net, X, T, loss_name, dtype)``
    -> float, E at the given parameters.
``gradients(net, X, T, loss_name, rule, dtype, lr=None)``
    -> ``Gradients(weights, biases, errors)``: per layer ∂E/∂W, ∂E/∂b (``None`` where the layer
    has no bias or holds it fixed) and the error ``e_l`` (n_samples, width) of the rule, all at
    the given parameters over all samples.
``step(net, X, T, loss_name, lr, rule, mode, dtype, optimizer=None)``
    -> the Network after one gradient-descent step (one pass over the data in ``online`` mode).
``train(net, X, T, loss_name, lr, rule, mode, steps, dtype, optimizer=None)``
    -> ``(final Network, losses)``, where ``losses[k]`` is E after step k + 1.
    ``optimizer``: ``None`` for plain gradient descent, or an ``Optimizer(name, convention,
    ...)`` (``reference/optimizers.py``: SGD with momentum, Adam, AdamW, RMSprop, as torch.optim,
    optax or Keras computes them, in torch.optim's names); its state carries over every update,
    every sample of an online step included.
``refuse_optimizer(optimizer)``
    -> ``None`` when the backend computes that optimizer in that convention, else the reason
    (the reference computes them all; ``train`` raises ``ValueError`` with it).
``intermediates(net, X, T, loss_name, rule, dtype, lr=None)``
    -> ``Intermediates(pre_activations, deltas, loss_terms)``: the tutorials' intermediate
    quantities at the given parameters: per layer z_l (the tutorials' "net") and
    ``delta_l = e_l ⊙ f_l'(z_l)`` of the rule, and each sample's and output's term of E
    (n_samples, outputs), whose sum is E (Mazur's E_o1 = ½(t_o1 − o1)²).
``stacked_step(stack, X, T, loss_name, lr, rule, mode, dtype)``
    -> ``StackedStep(loss_before, gradients, network, loss_after)`` for a *stack* of networks of
    one architecture: every array gains a first axis that numbers the networks (weights
    (networks, outputs, inputs), X (networks, samples, inputs), losses (networks,)), and each
    network gets exactly what ``loss``, ``gradients`` and ``step`` would give it alone, in one
    call. ``crosscheck sweep`` checks thousands of random networks a second this way.
``padded_step(padded, mode)`` (the frameworks only)
    -> ``StackedStep`` for a ``reference.padded.Padded`` stack: networks of many architectures,
    padded to one shape, in one call, with plain gradient descent (``reference/padded.py``
    states the padding). The reference has none: ``crosscheck sweep`` computes it one
    architecture at a time, unpadded, and compares each framework's padded numbers with it.

Bad arguments (an unknown name, mis-fitting shapes, a learning rate that is not a finite number
> 0, a step count that is not a whole number >= 0) raise ``ValueError`` with one line that says
which; no result shares memory with the arguments.

A backend
---------
is a module with ``forward``, ``loss``, ``gradients``, ``step`` and ``train``, ``NAME`` (its
name) and ``version()`` (its framework's version). ``stacked_step`` is needed by
``crosscheck sweep`` only, ``padded_step`` by its groups of fewer than 512 networks only
(without it, every group is a ``stacked_step``), and ``intermediates`` by the figures and
comparisons of z, δ and the terms of E only (without it they are computed by the other
backends alone). It may declare
``SUPPORTS = Supports(rules=..., modes=..., dtypes=..., losses=...)``
when it computes less than everything, and the harness then skips the rest as "not supported".
``crosscheck.backends.Backend`` is the same as a ``typing.Protocol``, checked when a backend is
loaded. The built-in backends write only their math and take the checks and conversions from
``reference/contract.py``, the same for all three.
"""

from reference.backprop import (
    forward,
    gradients,
    intermediates,
    loss,
    refuse_optimizer,
    stacked_step,
    step,
    train,
)
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

NAME = "numpy"
SUPPORTS = Supports()


def version() -> str:
    """The version of the framework behind this backend."""
    import numpy

    return numpy.__version__


__all__ = [
    "ACTIVATIONS", "DTYPES", "LOSSES", "MODES", "NAME", "RULES", "RULES_NEEDING_LR", "SUPPORTS",
    "Gradients", "Intermediates", "Layer", "Network", "Optimizer", "RuleUndefined",
    "StackedStep", "Supports", "as_network", "forward", "gradients", "intermediates", "loss",
    "refuse_optimizer", "stacked_step", "step", "train", "version",
]
