"""The magnitude of the terms behind every number of a first step: the scale of its rounding.

Two correct backends compute the same sums and products in different orders, so each number may
differ between them by a few units of rounding of the *terms it is computed from*, not of its
own value: a gradient that is a sum of per-sample terms which nearly cancel, or a saturated
neuron's slope o(1 − o) computed from o ≈ 1, carries a rounding error far larger than its own
size times ε. This module computes, for every number of ``loss``, ``gradients`` and one
``step``, a magnitude M that bounds the number and the first-order spread of its rounding: the
magnitude of a sum is the sum of its terms' magnitudes, and that of a product x·y is
M(x)|y| + |x|M(y) (the product rule, with the reference's own values for |x| and |y|):

* forward: A_0 = |X|, Z_l = A_{l−1}|W_l|ᵀ + |b_l| (the terms of z_l), A_l = |f'(z_l)| Z_l + |a_l|;
  each term of E, as the loss itself: its value plus |e_L| ⊙ (|t| + A_L);
* the output error e_L, a difference of t and a_L: E_L = the loss's own factor × (|t| + A_L);
* a delta, δ_l = e_l ⊙ f'_l with the slope computed from a_l as the tutorials and the frameworks
  do: D_l = E_l |f'_l| + |e_l| |∂f'_l/∂a| A_l, the second term being how the slope moves with a's
  rounding (|1 − 2a| for the sigmoid, 2|a| for tanh: large against a saturated slope);
* gradients G_l = D_lᵀ|a_{l−1}| + |δ_l|ᵀ A_{l−1}, bias Σ_samples D_l; the error sent down under
  each rule, e.g. E_{l−1} = D_l |W_l| for the chain rule, and for ``proportional``
  E_l |W_l/Σw| + |e_l| |W_l| Σ|w| / (Σw)², the division by a row sum being as ill-conditioned as
  that sum;
* after one step, |W| + η G; the loss, E + Σ |e_L| ⊙ (|t| + A_L) (for the loss after the step,
  the loss before stands in: a step that descends changes its terms little).

Each magnitude bounds its number (|Σ x y| ≤ Σ |x||y|), so a comparison relative to it is never
looser than one relative to the number itself, except where rounding demands it. It is computed
from the problem (network, data, loss, rule, learning rate), the reference's NumPy activations
and the reference backend's errors and gradients; stacks of networks (a leading axis) work too.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from crosscheck.compare.quantities import Parameters, Result
from reference import activations, losses

# |∂f'/∂a|: how a slope computed from the activation a = f(z) moves when a moves.
_SLOPE_SENSITIVITY = {
    "identity": lambda a: np.zeros_like(a),
    "relu": lambda a: np.zeros_like(a),
    "sigmoid": lambda a: np.abs(1 - 2 * a),        # f' = a(1 − a)
    "tanh": lambda a: 2 * np.abs(a),               # f' = 1 − a²
}


def _forward(net, X):
    """Activations, slopes and the magnitudes A_l (A_0 = |X|) and Z_l."""
    acts, slopes, A, Zs = [], [], [np.abs(X)], []
    a = X
    for layer in net:
        f, f_prime = activations.FUNCTIONS[layer.activation]
        z = a @ layer.weights.mT
        Z = A[-1] @ np.abs(layer.weights).mT
        if layer.bias is not None:
            z, Z = z + layer.bias[..., None, :], Z + np.abs(layer.bias)[..., None, :]
        a = f(z)
        acts.append(a)
        slopes.append(f_prime(z, a))
        A.append(np.abs(slopes[-1]) * Z + np.abs(a))
        Zs.append(Z)
    return acts, slopes, A, Zs


def _sent_back(rule, weights, E, e, D, G, g, lr):
    """The magnitude of the error the rule sends to the layer below (E, e: this layer's error's
    magnitude and value; D its delta's magnitude; G, g its weight gradient's)."""
    if rule == "exact":
        return D @ np.abs(weights)
    if rule == "raw_error":
        return E @ np.abs(weights)
    if rule == "raw_error_new_weights":
        return E @ np.abs(weights - lr * g) + np.abs(e) @ (np.abs(weights) + lr * G)
    sums = weights.sum(axis=-1, keepdims=True)
    condition = np.abs(weights).sum(axis=-1, keepdims=True) / np.abs(sums)
    return E @ np.abs(weights / sums) + np.abs(e) @ (np.abs(weights / sums) * condition)


def magnitudes(net, X, T, loss_name: str, rule: str, lr: float, reference: Result) -> Result:
    """A Result of magnitudes, one per number of the first step (see the module docstring);
    ``reference`` is the reference backend's Result of the same problem."""
    net = tuple(net)
    acts, slopes, A, Zs = _forward(net, X)
    loss, error = losses.FUNCTIONS[loss_name]
    output_terms = np.abs(T) + A[-1]
    E = np.abs(error(np.zeros_like(output_terms), output_terms))
    errors, grads, deltas = [None] * len(net), [None] * len(net), [None] * len(net)
    for index in reversed(range(len(net))):
        layer, e = net[index], np.asarray(reference.errors[index])
        sensitivity = _SLOPE_SENSITIVITY[layer.activation](acts[index]) * A[index + 1]
        D = E * np.abs(slopes[index]) + np.abs(e) * sensitivity
        delta = np.abs(e * slopes[index])
        errors[index], deltas[index] = E, D
        G = D.mT @ np.abs(acts[index - 1] if index else X) + delta.mT @ A[index]
        Gb = D.sum(axis=-2) if layer.bias is not None and layer.train_bias else None
        grads[index] = Parameters(G, Gb)
        if index > 0:
            g = np.asarray(reference.gradients[index].weights)
            E = _sent_back(rule, layer.weights, E, e, D, G, g, lr)
    after = tuple(Parameters(np.abs(layer.weights) + lr * g.weights,
                             None if layer.bias is None else
                             np.abs(layer.bias) + (0 if g.bias is None else lr * g.bias))
                  for layer, g in zip(net, grads))
    e_L = np.abs(error(acts[-1], T))
    terms = losses.TERMS[loss_name](acts[-1], T) + e_L * output_terms     # per element
    loss_terms = loss(acts[-1], T) + (e_L * output_terms).sum(axis=(-2, -1))
    return Result(loss_terms, tuple(grads), tuple(errors), after, loss_terms[..., None],
                  tuple(A[1:]), pre_activations_before=tuple(Zs), deltas=tuple(deltas),
                  loss_terms_before=terms)


def after_optimizer(net, scales: Result, reference: Result) -> Result:
    """``scales`` for a step taken by an optimizer. Its step is no longer η·g, so the weights
    after it are judged against the size of the weights and of the step: |W| + |ΔW|·c, with
    ΔW = W_after − W and c = max(1, G/|g|) the gradient's conditioning (g the gradient, G the
    magnitude of its terms, as above). The step is computed from g, which carries rounding of
    about ε·G; an optimizer's first step is elementwise and varies at most like g itself (η g
    for SGD, g/(|g| + ε) for Adam), so the rounding it inherits is about |ΔW|·ε·G/|g|: where g
    cancels (G ≫ |g|), so does what the step can be known to. A stack works as one network."""
    def scale(before, after, g, G):
        step, g = np.abs(after - before), np.abs(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            conditioning = np.where(g > 0, G / np.where(g > 0, g, 1.0), np.inf)
        return np.abs(before) + np.where(step > 0, step * np.maximum(conditioning, 1.0), 0.0)

    return dataclasses.replace(scales, params_after=tuple(
        Parameters(scale(layer.weights, p.weights, g.weights, G.weights),
                   None if layer.bias is None else
                   np.abs(layer.bias) if g.bias is None else scale(layer.bias, p.bias, g.bias,
                                                                   G.bias))
        for layer, p, g, G in zip(net, reference.params_after, reference.gradients,
                                  scales.gradients)))
