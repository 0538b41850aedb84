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
from reference import activations, backprop, losses
from reference.types import loss_form

# |∂f'/∂a|: how a slope computed from the activation a = f(z) moves when a moves.
_SLOPE_SENSITIVITY = {
    "identity": lambda a: np.zeros_like(a),
    "relu": lambda a: np.zeros_like(a),
    "sigmoid": lambda a: np.abs(1 - 2 * a),        # f' = a(1 − a)
    "tanh": lambda a: 2 * np.abs(a),               # f' = 1 − a²
}


def _forward(net, X, floor):
    """Activations, slopes and the magnitudes A_l (A_0 = |X|) and Z_l. Every A_l has ``floor``
    added, the dtype's smallest normal number over ε: below it an activation has no relative
    precision left (a backend may flush σ(−800) to 0), and a slope or a division can magnify
    what is left of it."""
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
        A.append(np.abs(slopes[-1]) * Z + np.abs(a) + floor)
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


def _output(form, a, A, T):
    """(E_L, terms): the magnitudes of the output error e_L and of each term of E, given the
    output layer's values a and their magnitude A. A squared error's e_L is c·(t − a), its
    terms c'·(t − a)²; the classification losses' errors and terms go through a softmax, a
    sigmoid or a log, whose rounding follows from their slopes (``_CLASSIFICATION``)."""
    if form in _CLASSIFICATION:
        n, N = T.shape[-2], T.shape[-2] * T.shape[-1]
        scale = 1.0 if "_sum" in form else (n if form == "cross_entropy" else N)
        E, rounding = _CLASSIFICATION[form](a, A, T)
        return E / scale, np.abs(losses.TERMS[form](a, T)) + rounding / scale
    error = losses.FUNCTIONS[form][1]
    output_terms = np.abs(T) + A
    e_L = np.abs(error(a, T))
    E = np.abs(error(np.zeros_like(output_terms), output_terms))
    return E, losses.TERMS[form](a, T) + e_L * output_terms


def _softmax(z, A, T):
    """e = t − p with p = softmax(z): log p_k = z_k − max z − log Σ e^{z_j − max z} carries the
    rounding of its terms, L_k = A_k + max A + Σ_j p_j (A_j + max A) + 1; p_k that of its log."""
    p = losses.softmax(z)
    shifted = A + A.max(axis=-1, keepdims=True)
    L = shifted + (p * shifted).sum(axis=-1, keepdims=True) + 1
    return np.abs(T) + p * (1 + L), np.abs(T) * L


def _sigmoid_of_logits(z, A, T):
    """e = t − σ(z), σ moving with its slope σ(1 − σ); each term max(z, 0) − z·t + log(1 +
    e^{−|z|}) with the magnitudes of z and the log."""
    p = activations.sigmoid(z)
    return np.abs(T) + p + p * (1 - p) * A, A * (1 + np.abs(T)) + 1


def _probabilities(p, A, T):
    """e = (t − p)/q with q = max(p(1 − p), 1e-12): its value's terms over q, and how it moves
    with p, 1/q + |t − p|·|1 − 2p|/q²; each term's logs move like 1/p and 1/(1 − p) (zero where
    a log is bounded at −100). A carries the floor of the smallest normal number, which 1/q can
    magnify 1e12 times (``_forward``)."""
    q = np.maximum(p * (1 - p), losses.SLOPE_FLOOR)
    moves = 1 / q + np.abs(T - p) * np.abs(1 - 2 * p) / q**2
    bound = np.exp(losses.LOG_FLOOR)
    with np.errstate(divide="ignore", invalid="ignore"):     # x/0 and 0/0 where not taken
        slopes = np.where(p > bound, np.abs(T) / p, 0) + np.where(1 - p > bound,
                                                                   np.abs(1 - T) / (1 - p), 0)
    return (np.abs(T) + p) / q + moves * A, slopes * A


_CLASSIFICATION = {
    "cross_entropy": _softmax, "cross_entropy_sum": _softmax,
    "binary_cross_entropy": _sigmoid_of_logits, "binary_cross_entropy_sum": _sigmoid_of_logits,
    "binary_cross_entropy@sigmoid": _probabilities,
    "binary_cross_entropy_sum@sigmoid": _probabilities,
}


def magnitudes(net, X, T, loss_name: str, rule: str, lr: float, reference: Result) -> Result:
    """A Result of magnitudes, one per number of the first step (see the module docstring);
    ``reference`` is the reference backend's Result of the same problem."""
    net = tuple(net)
    precision = np.finfo(np.asarray(reference.errors[-1]).dtype)
    acts, slopes, A, Zs = _forward(net, X, precision.tiny / precision.eps)
    form = loss_form(loss_name, net[-1].activation)
    E, terms = _output(form, acts[-1], A[-1], T)
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
    loss_terms = terms.sum(axis=(-2, -1))
    return Result(loss_terms, tuple(grads), tuple(errors), after, loss_terms[..., None],
                  tuple(A[1:]), pre_activations_before=tuple(Zs), deltas=tuple(deltas),
                  loss_terms_before=terms)


def _along(gradient, spread):
    """|∂E/∂w|·spread, 0 where E does not depend on w (whatever the spread, ∞ included)."""
    return np.where(gradient != 0, np.abs(gradient) * spread, 0.0)


def after_optimizer(net, X, T, loss_name: str, scales: Result, reference: Result) -> Result:
    """``scales`` for a step taken by an optimizer. Its step is no longer η·g, so the weights
    after it are judged against the size of the weights and of the step: |W| + |ΔW|·c, with
    ΔW = W_after − W and c = max(1, G/|g|) the gradient's conditioning (g the gradient, G the
    magnitude of its terms, as above). The step is computed from g, which carries rounding of
    about ε·G; an optimizer's first step is elementwise and varies at most like g itself (η g
    for SGD, g/(|g| + ε) for Adam), so the rounding it inherits is about |ΔW|·ε·G/|g|: where g
    cancels (G ≫ |g|), so does what the step can be known to. The loss after the step moves
    with those weights along the true gradient ∂E/∂W (not the rule's g, under any rule but the
    chain rule): its scale gains Σ |∂E/∂W|·|ΔW|·c. A stack works as one network."""
    def spread(before, after, g, G):
        step, g = np.abs(after - before), np.abs(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            conditioning = np.where(g > 0, G / np.where(g > 0, g, 1.0), np.inf)
        return np.where(step > 0, step * np.maximum(conditioning, 1.0), 0.0)

    true = backprop._backward(tuple(net), X, T, loss_form(loss_name, net[-1].activation),
                              "exact")
    params, moved = [], 0.0
    for k, (layer, p, g, G) in enumerate(zip(net, reference.params_after, reference.gradients,
                                             scales.gradients)):
        weights = spread(layer.weights, p.weights, g.weights, G.weights)
        bias = None if g.bias is None else spread(layer.bias, p.bias, g.bias, G.bias)
        moved = moved + _along(true.weights[k], weights).sum(axis=(-2, -1))
        if bias is not None:
            moved = moved + _along(true.biases[k], bias).sum(axis=-1)
        params.append(Parameters(np.abs(layer.weights) + weights,
                                 None if layer.bias is None else np.abs(layer.bias)
                                 + (0 if bias is None else bias)))
    return dataclasses.replace(scales, params_after=tuple(params),
                               losses=scales.losses + np.asarray(moved)[..., None])
