"""Property-based tests on the sweep's engine: thousands of random networks per run.

Hypothesis draws the architecture (so that a failure shrinks to the smallest one), a seed draws
the weights of a whole stack of networks, and each backend takes the stack in one call.

* Every backend agrees with the NumPy reference on every network, element by element.
* The exact rule's gradients equal central finite differences of the loss (the reference's
  backward code against its forward code only), on every network of the stack at once.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from crosscheck.runs import sweep
from reference import backprop
from reference.types import ACTIVATIONS, LOSSES, MODES, RULES
from tests.helpers import load_backend

NETWORKS = 200            # per drawn architecture


@st.composite
def architectures(draw, rules=RULES):
    depth = draw(st.integers(1, sweep.MAX_DEPTH))
    widths = tuple(draw(st.lists(st.integers(1, sweep.MAX_WIDTH), min_size=depth + 1,
                                 max_size=depth + 1)))
    rule, mode = draw(st.sampled_from(rules)), draw(st.sampled_from(MODES))
    low, high = sweep.LOG_LEARNING_RATE[(rule, mode) == ("proportional", "online")]
    drawn = tuple(draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=depth, max_size=depth)))
    loss = draw(st.sampled_from(LOSSES))
    return sweep.Architecture(
        widths=widths,
        activations=sweep.suited(drawn, loss),
        biases=tuple(draw(st.lists(st.sampled_from(sweep.BIAS_KINDS), min_size=depth,
                                   max_size=depth))),
        samples=draw(st.integers(1, sweep.MAX_SAMPLES)),
        loss=loss,
        rule=rule,
        mode=mode,
        learning_rate=sweep.learning_rate(draw(st.floats(low, high)), widths),
    )


SETTINGS = dict(deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("backend", ["torch", "jax"])
@settings(max_examples=8, **SETTINGS)
@given(arch=architectures(), seed=st.integers(0, 2**32 - 1))
def test_every_network_agrees_with_the_reference(backend, arch, seed):
    module = load_backend(backend)
    group = sweep.draw_group(np.random.default_rng(seed), arch, NETWORKS)
    run = (arch.loss, arch.learning_rate, arch.rule, arch.mode)
    ref = sweep.as_result(reference.stacked_step(*group, *run))
    checked = sweep.compare_group(arch, group, {
        "numpy": ref, backend: sweep.as_result(module.stacked_step(*group, *run))},
        keep=~sweep.diverged(ref))
    assert checked.agree, f"{backend}: {checked.worst} in {arch.describe()}"


# Central differences (h = 1e-5, float64): truncation ~h²·|E'''| and rounding ~eps·|E|/h. The
# bound is RTOL relative to max(|g|, FLOOR) as in test_finite_differences.py, plus the rounding
# of the two losses (1e3·eps·|E|/h covers sums over 4 layers of 16), so a wrong sign or a missing
# factor (an error of order |g|) fails while large losses with tiny gradients do not.
H, RTOL, FLOOR = 1e-5, 1e-6, 1e-4


def _far_from_kinks(stack, X):
    """Per network: no relu pre-activation within 1e-3 of its kink (the FD step reaches it)."""
    zs, _ = backprop._forward(stack, X)
    far = np.ones(X.shape[0], dtype=bool)
    for z, layer in zip(zs, stack):
        if layer.activation == "relu":
            far &= np.abs(z).min(axis=(-2, -1)) >= 1e-3
    return far


@settings(max_examples=25, **SETTINGS)
@given(arch=architectures(rules=("exact",)), seed=st.integers(0, 2**32 - 1))
def test_exact_gradients_equal_central_differences(arch, seed):
    rng = np.random.default_rng(seed)
    stack, X, T = sweep.draw_group(rng, arch, NETWORKS)
    grads = reference.stacked_step(stack, X, T, arch.loss, arch.learning_rate).gradients
    loss = reference.stacked_step(stack, X, T, arch.loss, arch.learning_rate).loss_before
    far = _far_from_kinks(stack, X)
    for layer, part in [(i, p) for i in range(len(stack)) for p in ("weights", "bias")]:
        array = getattr(stack[layer], part)
        if array is None or (part == "bias" and not stack[layer].train_bias):
            continue
        # One entry per parameter array, the same in every network of the stack.
        index = tuple(int(rng.integers(n)) for n in array.shape[1:])
        losses = []
        for sign in (1, -1):
            array[(slice(None), *index)] += sign * H
            losses.append(reference.stacked_step(stack, X, T, arch.loss, 0.1).loss_before)
            array[(slice(None), *index)] -= sign * H
        numeric = (losses[0] - losses[1]) / (2 * H)
        analytic = getattr(grads, "weights" if part == "weights" else "biases")[layer]
        analytic = analytic[(slice(None), *index)]
        bound = RTOL * np.maximum(np.abs(analytic), FLOOR) + 1e3 * np.finfo(float).eps * np.abs(
            loss) / H
        bad = far & ~(np.abs(analytic - numeric) <= bound)
        k = int(np.argmax(bad))
        assert not bad.any(), (
            f"numpy: network {k} of {arch.describe()}: gradients layer {layer} {part} index "
            f"{list(index)}: backprop = {float(analytic[k])!r}, finite difference = "
            f"{float(numeric[k])!r}, difference {abs(analytic[k] - numeric[k]):.3g} > "
            f"{bound[k]:.3g}")
