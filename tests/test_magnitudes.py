"""The magnitudes (the comparison's scales) against the formulas of their docstring, written again.

``crosscheck/compare/magnitudes.py`` computes, for every number of a first step, the magnitude
of the terms it is computed from, with NumPy's matrix products over stacks of networks. Here the
same formulas are written out once more from the module's docstring, number by number, in plain
Python floats (one loop per sum), and the two must agree to rounding. The bound test in
``test_comparison.py`` shows that a magnitude is never too small; this one shows that it is not
larger either: a scale twice what the formulas say would let a difference of twice the tolerance
through, and that is what it catches.

Every term is non-negative, so the two ways of summing agree to a few units of rounding of the
result itself: a relative 1e-12 (about 4,500 ε), with no absolute floor, so that the magnitudes
of dead relu neurons (the smallest normal number over ε, about 1e-292) are compared too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference
from crosscheck.compare.magnitudes import after_optimizer, magnitudes
from crosscheck.compare.quantities import Parameters, Result
from crosscheck.runs import sweep
from reference.optimizers import Optimizer
from reference.types import ACTIVATIONS, LOSS_OUTPUTS, LOSSES

RTOL = 1e-12
FLOOR = np.finfo(np.float64).tiny / np.finfo(np.float64).eps
OUTPUTS = [(loss, out) for loss in LOSSES for out in LOSS_OUTPUTS.get(loss, ACTIVATIONS)]


def _activation(name, z):
    """(a, f'(z)), the slope from a as the tutorials write it, and |∂f'/∂a|."""
    if name == "sigmoid":
        a = 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))
        return a, a * (1 - a), abs(1 - 2 * a)
    if name == "tanh":
        a = math.tanh(z)
        return a, 1 - a * a, 2 * abs(a)
    if name == "relu":
        return max(z, 0.0), float(z > 0), 0.0
    return z, 1.0, 0.0


def _forward(net, X):
    """Per layer: a, the slope, |∂f'/∂a|, Z (the terms of z) and A (those of a)."""
    a, A, layers = X.tolist(), np.abs(X).tolist(), []
    for layer in net:
        W = layer.weights.tolist()
        b = [0.0] * len(W) if layer.bias is None else layer.bias.tolist()
        z = [[sum(x * w for x, w in zip(row, Wj)) + bj for Wj, bj in zip(W, b)] for row in a]
        Z = [[sum(m * abs(w) for m, w in zip(row, Wj)) + abs(bj) for Wj, bj in zip(W, b)]
             for row in A]
        values = [[_activation(layer.activation, v) for v in row] for row in z]
        a = [[v[0] for v in row] for row in values]
        A = [[abs(s) * m + abs(v) + FLOOR for (v, s, _), m in zip(row, Zrow)]
             for row, Zrow in zip(values, Z)]
        layers.append({"a": a, "slope": [[v[1] for v in row] for row in values],
                       "sensitivity": [[v[2] for v in row] for row in values], "Z": Z, "A": A})
    return layers


def _squared(loss, t, a, A, N):
    """(E_L, term) of one output under a squared error e = c·(t − a)."""
    c, term = {"half_sse": (1.0, 0.5), "sse": (2.0, 1.0), "mse": (2 / N, 1 / N)}[loss]
    return c * (abs(t) + A), term * (t - a) ** 2 + abs(c * (t - a)) * (abs(t) + A)


def _softmax_row(z, A, t, scale):
    """(E_L, terms) of one sample's row under cross-entropy on logits z."""
    shift = max(z)
    p = [math.exp(v - shift) for v in z]
    p = [v / sum(p) for v in p]
    shifted = [m + max(A) for m in A]
    L = [s + sum(pj * sj for pj, sj in zip(p, shifted)) + 1 for s in shifted]
    E = [(abs(tk) + pk * (1 + Lk)) / scale for tk, pk, Lk in zip(t, p, L)]
    terms = [(abs(-tk * math.log(pk)) + abs(tk) * Lk) / scale for tk, pk, Lk in zip(t, p, L)]
    return E, terms


def _binary(out, t, a, A, scale):
    """(E_L, term) of one output under BCE on a logit (identity) or a probability (sigmoid)."""
    if out == "identity":
        p = 1 / (1 + math.exp(-a))
        term = max(a, 0) - a * t + math.log1p(math.exp(-abs(a)))
        return ((abs(t) + p + p * (1 - p) * A) / scale,
                (abs(term) + A * (1 + abs(t)) + 1) / scale)
    q = max(a * (1 - a), float(np.float32(1e-12)))
    moves = 1 / q + abs(t - a) * abs(1 - 2 * a) / q**2
    # Each log bounded at −100: past the bound it does not move with a, and adds no slope.
    slopes = (abs(t) / a if a > math.exp(-100) else 0) + (
        abs(1 - t) / (1 - a) if 1 - a > math.exp(-100) else 0)
    log_p = max(math.log(a), -100) if a > 0 else -100
    log_q = max(math.log1p(-a), -100) if a < 1 else -100
    term = -(t * log_p + (1 - t) * log_q)
    return ((abs(t) + a) / q + moves * A) / scale, (abs(term) + slopes * A) / scale


def _output(loss, out, a, A, T):
    """E_L and the terms of E, per sample and output."""
    n, K = len(T), len(T[0])
    if loss.startswith("cross_entropy"):
        rows = [_softmax_row(z, M, t, 1 if loss.endswith("_sum") else n)
                for z, M, t in zip(a, A, T)]
        return [r[0] for r in rows], [r[1] for r in rows]
    if loss.startswith("binary"):
        scale = 1 if loss.endswith("_sum") else n * K
        pairs = [[_binary(out, *v, scale) for v in zip(t, x, M)] for t, x, M in zip(T, a, A)]
    else:
        pairs = [[_squared(loss, *v, n * K) for v in zip(t, x, M)] for t, x, M in zip(T, a, A)]
    return [[p[0] for p in row] for row in pairs], [[p[1] for p in row] for row in pairs]


def _sent_back(rule, W, E, e, D, G, g, lr):
    """The magnitude of the error the rule sends to the layer below."""
    inputs, outputs = range(len(W[0])), range(len(W))
    if rule == "exact":
        return [[sum(d[j] * abs(W[j][i]) for j in outputs) for i in inputs] for d in D]
    if rule == "raw_error":
        return [[sum(m[j] * abs(W[j][i]) for j in outputs) for i in inputs] for m in E]
    if rule == "raw_error_new_weights":
        return [[sum(m[j] * abs(W[j][i] - lr * g[j][i])
                     + abs(x[j]) * (abs(W[j][i]) + lr * G[j][i]) for j in outputs)
                 for i in inputs] for m, x in zip(E, e)]
    sums = [sum(row) for row in W]
    condition = [sum(map(abs, row)) / abs(s) for row, s in zip(W, sums)]
    return [[sum((m[j] + abs(x[j]) * condition[j]) * abs(W[j][i] / sums[j]) for j in outputs)
             for i in inputs] for m, x in zip(E, e)]


def oracle(net, X, T, loss, rule, lr, errors, gradients):
    """Every magnitude of one network's first step, from the docstring's formulas."""
    layers = _forward(net, X)
    E, terms = _output(loss, net[-1].activation, layers[-1]["a"], layers[-1]["A"], T.tolist())
    grads, errs, deltas = [None] * len(net), [None] * len(net), [None] * len(net)
    for k in reversed(range(len(net))):
        L, e = layers[k], errors[k].tolist()
        below = layers[k - 1] if k else {"a": X.tolist(), "A": np.abs(X).tolist()}
        D = [[m * abs(s) + abs(x) * sens * M for m, s, x, sens, M in
              zip(*rows)] for rows in zip(E, L["slope"], e, L["sensitivity"], L["A"])]
        delta = [[abs(x * s) for x, s in zip(*rows)] for rows in zip(e, L["slope"])]
        samples = range(len(D))
        G = [[sum(D[s][j] * abs(below["a"][s][i]) + delta[s][j] * below["A"][s][i]
                  for s in samples) for i in range(len(below["a"][0]))] for j in range(len(e[0]))]
        trained = net[k].bias is not None and net[k].train_bias
        Gb = [sum(D[s][j] for s in samples) for j in range(len(e[0]))] if trained else None
        errs[k], deltas[k], grads[k] = E, D, (G, Gb)
        if k:
            E = _sent_back(rule, net[k].weights.tolist(), E, e, D, G,
                           gradients[k].weights.tolist(), lr)
    after = [(np.abs(layer.weights) + lr * np.array(G),
              None if layer.bias is None else np.abs(layer.bias) + (0 if Gb is None else
                                                                    lr * np.array(Gb)))
             for layer, (G, Gb) in zip(net, grads)]
    return {"gradients": grads, "errors": errs, "deltas": deltas, "after": after,
            "terms": terms, "activations": [L["A"] for L in layers],
            "pre_activations": [L["Z"] for L in layers]}


def assert_matches(name, got, expected):
    """``got`` equals the oracle's ``expected`` to a relative RTOL, number by number."""
    got, expected = np.asarray(got, np.float64), np.asarray(expected, np.float64)
    assert got.shape == expected.shape, f"{name}: shape {got.shape}, expected {expected.shape}"
    with np.errstate(invalid="ignore"):          # inf − inf: equal infinities are equal
        diff = np.abs(got - expected)
        close = np.isfinite(expected) & (diff <= RTOL * np.abs(expected))
        bad = np.argwhere(~((got == expected) | close))
    if bad.size:
        at = tuple(bad[0])
        raise AssertionError(f"{name}{list(at)}: magnitudes = {got[at]!r}, formulas = "
                             f"{expected[at]!r}, difference {diff[at]:.3g}")


def _stack(loss, out, rule, seed):
    """Three networks of depth 3 whose hidden layers take every activation and bias kind, with
    signs wherever the contract allows them: targets of both signs under a squared error, and
    under ``proportional`` rows of mixed signs (one weight in each row negative, at 0.3 of its
    size, so the sums stay clear of zero) and, in network 1, rows whose sums are negative."""
    hidden = ACTIVATIONS[seed % 4], ACTIVATIONS[(seed + 1) % 4]
    biases = sweep.BIAS_KINDS[seed % 3], sweep.BIAS_KINDS[(seed + 1) % 3], "present"
    arch = sweep.Architecture((3, 4, 3, 2), (*hidden, out), biases, 4, loss, rule, "batch", 0.05)
    stack, X, T = sweep.draw_group(np.random.default_rng(seed), arch, 3)
    if loss in ("half_sse", "sse", "mse"):
        T = 2 * T - 1
    if rule == "proportional":
        signs = np.where(np.arange(3) == 1, -1.0, 1.0)[:, None, None]
        stack = (stack[0], *(layer._replace(weights=signs * layer.weights * np.where(
            np.arange(layer.weights.shape[-1]) == 0, -0.3, 1.0)) for layer in stack[1:]))
    return arch, (stack, X, T)


def _errors_and_gradients(result, k):
    """Network ``k``'s errors and gradients in a stacked Result, as the oracle reads them."""
    alone = _slice(result, k)
    return alone.errors, alone.gradients


def _slice(result, k):
    """Network ``k`` of a stacked Result as a Result of its own."""
    def take(array):
        return None if array is None else np.asarray(array)[k]

    return Result(take(result.loss_before),
                  tuple(Parameters(take(p.weights), take(p.bias)) for p in result.gradients),
                  tuple(take(e) for e in result.errors),
                  tuple(Parameters(take(p.weights), take(p.bias)) for p in result.params_after),
                  take(result.losses))


@pytest.mark.parametrize("rule", reference.RULES)
@pytest.mark.parametrize(("loss", "out"), OUTPUTS, ids=[f"{a}-{b}" for a, b in OUTPUTS])
def test_every_magnitude_is_what_its_formula_says(loss, out, rule):
    """Each network of a stack, every quantity's magnitude against the formulas."""
    seed = OUTPUTS.index((loss, out)) + 7 * reference.RULES.index(rule)
    arch, (stack, X, T) = _stack(loss, out, rule, seed)
    result = sweep.as_result(reference.stacked_step(stack, X, T, loss, arch.learning_rate, rule,
                                                     "batch"))
    scales = magnitudes(stack, X, T, loss, rule, arch.learning_rate, result)
    for k in range(len(X)):
        net, Xk, Tk = sweep.network((stack, X, T), k)
        want = oracle(net, Xk, Tk, loss, rule, arch.learning_rate,
                      *_errors_and_gradients(result, k))
        assert_matches("loss_before", scales.loss_before[k], np.sum(want["terms"]))
        assert_matches("losses", scales.losses[k], [np.sum(want["terms"])])
        assert_matches("loss_terms_before", scales.loss_terms_before[k], want["terms"])
        for layer in range(len(net)):
            (G, Gb), (W, b) = want["gradients"][layer], want["after"][layer]
            pairs = [("gradients.weights", scales.gradients[layer].weights, G),
                     ("params_after.weights", scales.params_after[layer].weights, W),
                     ("errors", scales.errors[layer], want["errors"][layer]),
                     ("deltas", scales.deltas[layer], want["deltas"][layer]),
                     ("activations", scales.activations_before[layer],
                      want["activations"][layer]),
                     ("pre_activations", scales.pre_activations_before[layer],
                      want["pre_activations"][layer])]
            for name, got, expected in pairs:
                assert_matches(f"network {k} layer {layer} {name}", got[k], expected)
            for name, got, expected in [("gradients.bias", scales.gradients[layer].bias, Gb),
                                        ("params_after.bias", scales.params_after[layer].bias,
                                         b)]:
                assert (got is None) == (expected is None), f"layer {layer} {name}"
                if got is not None:
                    assert_matches(f"network {k} layer {layer} {name}", got[k], expected)


@pytest.mark.parametrize("loss", ["binary_cross_entropy", "binary_cross_entropy_sum"])
def test_saturated_probabilities_are_what_the_formulas_say(loss):
    """BCELoss on a sigmoid output driven to p < e^−100 and to p = 1, against targets 0 and 1:
    past −100 a log is bounded and its slope is no term of the scale."""
    arch, (stack, X, T) = _stack(loss, "sigmoid", "exact", 3)
    T = T.copy()
    T[..., 0], T[..., 1] = 0.0, 1.0       # where a saturated term is all slope: log(1 − p) ≈ −p
    top = stack[-1]
    stack = (*stack[:-1], top._replace(weights=top.weights * 400, bias=top.bias * 400))
    result = sweep.as_result(reference.stacked_step(stack, X, T, loss, arch.learning_rate,
                                                     "exact", "batch"))
    scales = magnitudes(stack, X, T, loss, "exact", arch.learning_rate, result)
    p = np.array([reference.forward(*sweep.network((stack, X, T), k)[:2])[-1]
                  for k in range(len(X))])
    assert (p < math.exp(-100)).any() and (p == 1).any()
    for k in range(len(X)):
        net, Xk, Tk = sweep.network((stack, X, T), k)
        want = oracle(net, Xk, Tk, loss, "exact", arch.learning_rate,
                      *_errors_and_gradients(result, k))
        assert_matches(f"network {k} loss_terms_before", scales.loss_terms_before[k],
                       want["terms"])
        assert_matches(f"network {k} errors", scales.errors[-1][k], want["errors"][-1])


def _spread(before, after, g, G):
    """|ΔW|·max(1, G/|g|) per number, 0 where the step is 0 (infinite conditioning at g = 0)."""
    step = abs(after - before)
    if step == 0:
        return 0.0
    return step * max(G / abs(g) if g != 0 else math.inf, 1.0)


def _after_oracle(layer, true_w, true_b, after, g, G):
    """(|W| + spread, |b| + spread, Σ |∂E/∂w|·spread) of one layer, number by number."""
    def part(before, after, g, G, true):
        spread = [_spread(*v) for v in zip(before.ravel(), after.ravel(), g.ravel(), G.ravel())]
        moved = sum(abs(d) * s for d, s in zip(true.ravel(), spread) if d != 0)
        return np.abs(before) + np.reshape(spread, before.shape), moved

    W, moved = part(layer.weights, after.weights, g.weights, G.weights, true_w)
    if g.bias is None:
        return W, None if layer.bias is None else np.abs(layer.bias), moved
    b, moved_b = part(layer.bias, after.bias, g.bias, G.bias, true_b)
    return W, b, moved + moved_b


@pytest.mark.parametrize("optimizer", [
    Optimizer("sgd", "torch", momentum=0.9), Optimizer("adam", "optax"),
    Optimizer("rmsprop", "keras", centered=True), Optimizer("adamw", "torch")], ids=str)
@pytest.mark.parametrize(("loss", "out", "rule"), [
    ("mse", "relu", "exact"), ("mse", "relu", "raw_error"),
    ("binary_cross_entropy", "sigmoid", "raw_error")])
def test_the_scales_after_an_optimizer_step_are_what_their_formula_says(optimizer, loss, out,
                                                                        rule):
    """``after_optimizer``: |W| + |ΔW|·max(1, G/|g|) per weight, and the loss after the step
    gains Σ |∂E/∂W|·that spread along the true gradient, whatever the rule's g. Dead relu
    neurons have g = 0 exactly, and AdamW's weight decay still moves their weights: there the
    spread is infinite, and it adds nothing to the loss's scale (∂E/∂w = 0 too)."""
    # Hidden layers relu and sigmoid (seed 5) or identity and relu (seed 4): never the output
    # layer's activation, so that the loss's form is read from the output layer only.
    arch, (stack, X, T) = _stack(loss, out, rule, 5 if out == "relu" else 4)
    result = sweep.as_result(reference.stacked_step(stack, X, T, loss, arch.learning_rate, rule,
                                                     "batch", optimizer=optimizer))
    scales = magnitudes(stack, X, T, loss, rule, arch.learning_rate, result)
    with np.errstate(all="ignore"):       # as the sweep calls it: inf·0 where nothing moved
        got = after_optimizer(stack, X, T, loss, scales, result)
    assert np.isfinite(got.losses).all()
    for k in range(len(X)):
        net, Xk, Tk = sweep.network((stack, X, T), k)
        true = reference.gradients(net, Xk, Tk, loss, "exact")
        moved = 0.0
        for layer in range(len(net)):
            pick = _slice(result, k).gradients[layer], _slice(scales, k).gradients[layer]
            after = _slice(result, k).params_after[layer]
            W, b, m = _after_oracle(net[layer], true.weights[layer], true.biases[layer], after,
                                    *pick)
            moved += m
            assert_matches(f"network {k} layer {layer} weights",
                           got.params_after[layer].weights[k], W)
            if b is not None:
                assert_matches(f"network {k} layer {layer} bias", got.params_after[layer].bias[k],
                               b)
        assert_matches(f"network {k} losses", got.losses[k], scales.losses[k] + moved)
    # One network alone (as `crosscheck run` calls it) gets its own slice of the stack's scales.
    net, X0, T0 = sweep.network((stack, X, T), 0)
    alone = _slice(result, 0)
    with np.errstate(all="ignore"):
        scales_alone = magnitudes(net, X0, T0, loss, rule, arch.learning_rate, alone)
        one = after_optimizer(net, X0, T0, loss, scales_alone, alone)
    assert_matches("network 0 alone: losses", one.losses, got.losses[0])
    for layer, params in enumerate(one.params_after):
        assert_matches(f"network 0 alone: layer {layer} weights", params.weights,
                       got.params_after[layer].weights[0])
