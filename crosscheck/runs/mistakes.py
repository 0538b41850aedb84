"""The catalogue of known mistakes, each a variant of the reference's backward pass or step.

``crosscheck verify`` runs every variant on the probes a user's function was checked on, and
names those whose numbers are the user's. A variant is a ``Mistake`` made in every layer or, for
mistakes a student makes in one place (the output delta taken to be the error, one gradient
transposed), in one layer only. The backward pass here is the reference's, written with the
places a mistake can change: the slope, the error sent to the layer below, and the gradients
and the step at the end; with no mistake it is the reference (``tests/test_verify.py``).

The mistakes, with the tutorials' names for the quantities:

* ``missing_half``: gradients twice the truth, the ½ of ½(t − o)² left out;
* ``halved``: gradients half the truth, the 2 of (t − o)²'s derivative left out (sse, mse);
* ``mean_over_samples``: gradients divided by the number of samples;
* ``missing_mean``: for mse, the mean left out (gradients n·m times the truth);
* ``missing_batch_mean``: for cross-entropy, the mean over the samples left out (binary
  cross-entropy: over every element);
* ``softmax_twice``: a softmax output layer fed to a cross-entropy that applies its own;
* ``slope_not_cancelled``: binary cross-entropy on a sigmoid output with the squared error's
  delta, (t − p)·p(1 − p), where the slope cancels and δ = t − p;
* ``sign``: the update direction returned as the gradient, −∂E/∂W;
* ``transposed``: a weight gradient transposed (the x·W layout);
* ``raw_error``, ``proportional``: the tutorials' rules (seed 000's Hᵀ·E, seed 001's split);
* ``new_weights`` (step): the error sent back through weights already updated;
* ``slope_of_activation_output``: σ(a)(1 − σ(a)) where a(1 − a) is meant (the slope of the
  activation's output, not at its input);
* ``missing_slope``: a layer's slope left out, its delta taken to be its error;
* ``bias_not_trained``: bias gradients zero or missing (step: biases unchanged);
* ``ascent`` (step): W + η·g, the update added where it is subtracted;
* ``missing_learning_rate`` (step): W − g;
* ``online_as_batch``, ``batch_as_online`` (step): one update from all samples where one per
  sample is meant, or the other way round.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from reference import activations, losses
from reference.types import loss_form


class NotApplicable(ValueError):
    """The mistake cannot be made in this network (a transposed gradient of a non-square
    layer cannot make a step)."""


@dataclass(frozen=True)
class Mistake:
    id: str
    explanation: str     # in the tutorials' words; {where}: "in layer 1" or "in every layer"
    fix: str
    per_layer: bool = False      # can be made in one layer, and is named with it
    step_only: bool = False      # a mistake of a training step, not of the gradients
    applies: Callable = lambda problem: True

    def explained(self, layer: int | None) -> str:
        where = "in every layer" if layer is None else f"in layer {layer}"
        return self.explanation.replace("{where}", where)

    def variants(self, depth: int):
        """(self, layer) for every place the mistake can be made: every layer (None), then
        each layer on its own, from the output down."""
        if self.per_layer and depth == 1:
            yield self, 0
            return
        yield self, None
        if self.per_layer:
            for layer in reversed(range(depth)):
                yield self, layer


def _counted(loss_name: str, T) -> int:
    """What a classification loss's mean divides by: samples (cross-entropy) or elements."""
    return T.shape[0] if loss_name.startswith("cross_entropy") else T.size


def _nonlinear(problem) -> bool:
    return any(layer.activation in ("sigmoid", "tanh", "relu") for layer in problem.net)


CATALOGUE = (
    Mistake("missing_half", "the gradients are twice the truth {where}: the ½ of E = ½(t − o)² "
            "was left out, so ∂E/∂o was taken to be 2(o − t)",
            "for E = ½Σ(t − o)², ∂E/∂o = o − t: the ½ cancels the 2 of the square",
            applies=lambda p: p.loss == "half_sse"),
    Mistake("halved", "the gradients are half the truth {where}: the 2 of the square's "
            "derivative, ∂(t − o)²/∂o = 2(o − t), was left out",
            "keep the 2: for E = Σ(t − o)², ∂E/∂o = 2(o − t)",
            applies=lambda p: p.loss in ("sse", "mse")),
    Mistake("mean_over_samples", "the gradients are divided by the number of samples {where}: "
            "E is the sum over the samples, not their mean",
            "sum the per-sample gradients; do not divide by the number of samples",
            applies=lambda p: p.samples > 1 and p.loss not in ("cross_entropy",
                                                                "binary_cross_entropy")),
    Mistake("missing_mean", "the gradients are the number of elements times the truth {where}: "
            "mse is the mean of (t − o)² over every sample and output, as torch.nn.MSELoss() "
            "takes it, and its derivative keeps the 1/(n·m)",
            "divide ∂E/∂o by the number of samples times outputs",
            applies=lambda p: p.loss == "mse"),
    Mistake("missing_batch_mean", "the gradients are n times the truth {where}: "
            "CrossEntropyLoss() averages over the n samples and BCELoss() over every element, "
            "and the derivative keeps that 1/n: δ_L = (p − t)/n, not p − t",
            "divide the output delta by the number of samples (binary cross-entropy: of "
            "samples times outputs)",
            applies=lambda p: p.loss in ("cross_entropy", "binary_cross_entropy")
            and _counted(p.loss, p.T) > 1),
    Mistake("softmax_twice", "the softmax is applied twice {where}: the output layer's values "
            "went through a softmax and then into a cross-entropy that applies its own",
            "give the cross-entropy the logits z (an identity output layer): its softmax is "
            "part of the loss, and δ_L = (p − t)/n with p = softmax(z)",
            applies=lambda p: p.loss.startswith("cross_entropy")),
    Mistake("slope_not_cancelled", "the output delta keeps the sigmoid's slope {where}: "
            "(p − t)·p(1 − p) is the squared error's; under binary cross-entropy "
            "∂E/∂p = (p − t)/(p(1 − p)) and the slope cancels it",
            "for binary cross-entropy on a sigmoid output, δ_L = (p − t)/N: no p(1 − p)",
            applies=lambda p: p.loss.startswith("binary_cross_entropy")
            and p.net[-1].activation == "sigmoid"),
    Mistake("sign", "the gradients have the wrong sign {where}: this is the update direction "
            "−∂E/∂W (the tutorials' error = t − o times the inputs), not ∂E/∂W",
            "return ∂E/∂W = −(e ⊙ f′)ᵀ a with e = t − o, or (o − t) ⊙ f′ times the inputs"),
    Mistake("transposed", "a weight gradient is transposed {where}: (inputs, outputs), the x·W "
            "layout of seed 002, where the weights are (outputs, inputs)",
            "return each weight gradient in the layout of its weights (or use --layout "
            "inputs-outputs if your weights are (inputs, outputs))", per_layer=True),
    Mistake("raw_error", "the errors, not the deltas, are sent back {where}: e_{l−1} = e_l W "
            "(seed 000's Hᵀ·E, seed 001's who.T · e) leaves out the slope f′ of the layer above",
            "send back the delta: e_{l−1} = (e_l ⊙ f′_l) W_l, the chain rule",
            applies=_nonlinear),
    Mistake("proportional", "each neuron's error is split in proportion to its incoming "
            "weights {where} (seed 001's first form, 0.08 · 0.6/1.3): a picture, not the "
            "gradient", "send back (e_l ⊙ f′_l) W_l, the chain rule"),
    Mistake("new_weights", "the error is sent back through weights already updated {where}: "
            "each layer was stepped before its error went down",
            "compute every layer's error with the weights as they were before the step, then "
            "update", step_only=True),
    Mistake("slope_of_activation_output", "the slope is taken of the activation's output "
            "{where}: σ(a)(1 − σ(a)) where a(1 − a) is meant (a = σ(z) is already the output)",
            "with a = σ(z), the slope is a(1 − a) (tanh: 1 − a²); do not apply σ again",
            per_layer=True),
    Mistake("missing_slope", "a slope is left out {where}: the delta was taken to be the error, "
            "e ⊙ f′(z) without the f′(z)", "multiply the error by the activation's slope "
            "before it makes gradients or goes back: δ = e ⊙ f′(z)", per_layer=True),
    Mistake("bias_not_trained", "the bias gradients are zero or missing {where} though the "
            "biases are trained", "∂E/∂b = −Σ_samples δ: the delta summed over the samples",
            per_layer=True),
    Mistake("ascent", "the step goes uphill {where}: W + η·∂E/∂W", "step against the "
            "gradient: W ← W − η·∂E/∂W (or W + η·(e ⊙ f′)ᵀa with e = t − o)", step_only=True),
    Mistake("missing_learning_rate", "the step leaves out the learning rate {where}: W − ∂E/∂W",
            "scale the update by the learning rate: W ← W − η·∂E/∂W", step_only=True),
    Mistake("online_as_batch", "one update from all the samples together {where}, where the "
            "example trains online: one update per sample, in order",
            "update after every sample, in the order of the data",
            step_only=True, applies=lambda p: p.mode == "online" and p.samples > 1),
    Mistake("batch_as_online", "one update per sample {where}, where the example trains in "
            "batch mode: one update from the loss summed over all samples",
            "sum the gradients over all the samples, then update once",
            step_only=True, applies=lambda p: p.mode == "batch" and p.samples > 1),
)


# --- the backward pass with its places for a mistake --------------------------------------------
def _slope(mistake, here: bool, activation: str, z, a):
    """f′ at layer l, as the reference takes it, or as the mistake does."""
    f, f_prime = activations.FUNCTIONS[activation]
    if here and mistake == "missing_slope":
        return np.ones_like(z)
    if here and mistake == "slope_of_activation_output":
        fa = f(a)
        return f_prime(a, fa)
    return f_prime(z, a)


def _sent_back(mistake, here: bool, weights, error, delta, grad_w, lr):
    """The error of the layer below."""
    if here and mistake == "raw_error":
        return error @ weights
    if here and mistake == "proportional":
        return error @ (weights / weights.sum(axis=-1, keepdims=True))
    if here and mistake == "new_weights":
        return delta @ (weights - lr * grad_w)
    return delta @ weights


def gradients(net, X, T, loss_name: str, mistake: str | None = None, layer: int | None = None,
              lr: float = 0.0):
    """(weight gradients, bias gradients) of a network, with ``mistake`` made in ``layer``
    (every layer for None); a bias gets a gradient wherever it is present."""
    zs, acts, a = [], [], X
    for lay in net:
        z = a @ lay.weights.T + (0 if lay.bias is None else lay.bias)
        a = activations.FUNCTIONS[lay.activation][0](z)
        zs.append(z)
        acts.append(a)
    error = _output_error(mistake, layer in (None, len(net) - 1), net[-1], zs[-1], acts[-1],
                          T, loss_name)
    inputs, grad_w, grad_b = [X, *acts[:-1]], [None] * len(net), [None] * len(net)
    for index in reversed(range(len(net))):
        here, lay = layer is None or layer == index, net[index]
        delta = error * _slope(mistake, here, lay.activation, zs[index], acts[index])
        grad_w[index] = -delta.T @ inputs[index]
        grad_b[index] = None if lay.bias is None else -delta.sum(axis=0)
        if index > 0:
            error = _sent_back(mistake, here, lay.weights, error, delta, grad_w[index], lr)
    return _finished(mistake, layer, grad_w, grad_b, loss_name, T)


def _output_error(mistake, here: bool, output, z, a, T, loss_name: str):
    """e_L = −∂E/∂a_L, or as the mistake takes it at the output layer."""
    form = loss_form(loss_name, output.activation)
    error = losses.FUNCTIONS[form][1]
    if here and mistake == "softmax_twice":
        # E(softmax(a)): its error is the softmax's Jacobian times the error at p = softmax(a).
        p = losses.softmax(a)
        at_p = error(p, T)
        return p * (at_p - (p * at_p).sum(axis=-1, keepdims=True))
    if here and mistake == "slope_not_cancelled":
        return error(a, T) * activations.FUNCTIONS[output.activation][1](z, a)
    return error(a, T)


_FACTORS = {"missing_half": lambda T, loss: 2.0, "halved": lambda T, loss: 0.5,
            "sign": lambda T, loss: -1.0, "mean_over_samples": lambda T, loss: 1.0 / T.shape[0],
            "missing_mean": lambda T, loss: T.size,
            "missing_batch_mean": lambda T, loss: _counted(loss, T)}


def _finished(mistake, layer, grad_w, grad_b, loss_name, T):
    """The gradients with the mistakes made at the end: a factor, a transpose, a dropped bias."""
    def here(index):
        return layer is None or layer == index

    factor = _FACTORS.get(mistake, lambda T, loss: 1.0)(T, loss_name)
    grad_w = [factor * g if here(i) else g for i, g in enumerate(grad_w)]
    grad_b = [None if g is None else factor * g if here(i) else g for i, g in enumerate(grad_b)]
    if mistake == "transposed":
        grad_w = [g.T if here(i) else g for i, g in enumerate(grad_w)]
    if mistake == "bias_not_trained":
        grad_b = [None if g is None else np.zeros_like(g) if here(i) else g
                  for i, g in enumerate(grad_b)]
    return grad_w, grad_b


def step(net, X, T, loss_name: str, lr: float, mode: str, mistake: str | None = None,
         layer: int | None = None):
    """(weights, biases) after one step in ``mode``, with ``mistake`` made in ``layer``."""
    if mistake == "online_as_batch":
        mode = "batch"
    elif mistake == "batch_as_online":
        mode = "online"
    weights = [lay.weights for lay in net]
    biases = [lay.bias for lay in net]
    rows = [slice(None)] if mode == "batch" else [slice(i, i + 1) for i in range(len(X))]
    for sample in rows:
        current = tuple(lay._replace(weights=w, bias=b)
                        for lay, w, b in zip(net, weights, biases))
        grad_w, grad_b = gradients(current, X[sample], T[sample], loss_name, mistake, layer, lr)
        rate = {"ascent": -lr, "missing_learning_rate": 1.0}.get(mistake, lr)
        if any(w.shape != g.shape for w, g in zip(weights, grad_w)):
            raise NotApplicable(mistake)
        weights = [w - (rate if layer in (None, i) else lr) * g
                   for i, (w, g) in enumerate(zip(weights, grad_w))]
        biases = [None if b is None else b - (rate if layer in (None, i) else lr) * g
                  for i, (b, g) in enumerate(zip(biases, grad_b))]
    return weights, biases
