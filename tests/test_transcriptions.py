"""The tutorials' own formulas, transcribed as they are written, against the reference.

Each transcription follows its tutorial's notation and layout (seed 002: scalars and x·W; seed 000:
column vectors, W·I + B, E = target − guess and W ← W + ΔW), so it shares no code and no
conventions with the reference: agreement means the reference computes what the tutorial teaches.
Both sides compute in float64 with a few dozen operations, so they agree to about 1e-15.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import reference as R
from crosscheck import examples
from tests.helpers import assert_close


def test_seed002_as_written():
    i1, i2, actual = 2.0, 3.0, 1.0
    w1, w2, w3, w4, w5, w6 = 0.12, 0.33, 0.15, 0.09, 0.11, 0.12
    a = 0.05
    # Forward pass
    h1, h2 = i1 * w1 + i2 * w2, i1 * w3 + i2 * w4
    prediction = h1 * w5 + h2 * w6
    delta = prediction - actual
    # The update formulas of its summary, all with the weights before the step.
    new = dict(w6=w6 - a * h2 * delta, w5=w5 - a * h1 * delta, w4=w4 - a * i2 * delta * w6,
               w3=w3 - a * i1 * delta * w6, w2=w2 - a * i2 * delta * w5,
               w1=w1 - a * i1 * delta * w5)

    example = examples.load(examples.find("seed002-linear"))
    after = R.step(example.layers, example.inputs, example.targets, example.loss,
                   example.learning_rate)
    assert_close(R.forward(example.layers, example.inputs)[0], [[h1, h2]], rtol=1e-15,
                 quantity="hidden", layer=0)
    assert_close(after[0].weights, [[new["w1"], new["w2"]], [new["w3"], new["w4"]]], rtol=1e-15,
                 quantity="after one step", layer=0, param="weights")
    assert_close(after[1].weights, [[new["w5"], new["w6"]]], rtol=1e-15,
                 quantity="after one step", layer=1, param="weights")


def seed000_train(weights, biases, inputs, targets, lr, passes, update_first=False):
    """Seed 000, column vectors: O = σ(W·I + B); E_out = target − guess; E_prev = Wᵀ·E;
    ΔW = Lr·(E ⊙ O ⊙ (1 − O))·Iᵀ; ΔB = Lr·(E ⊙ O ⊙ (1 − O)); one sample at a time.

    ``update_first`` is Toy-Neural-Network-JS's order: the layer's weights are updated before
    the errors of the layer below are computed from them."""
    sigma = np.vectorize(lambda x: 1 / (1 + math.exp(-x)))
    W = [np.array(w, dtype=float) for w in weights]
    B = [np.array(b, dtype=float).reshape(-1, 1) for b in biases]
    for _ in range(passes):
        for x, t in zip(inputs, targets):
            outs = [np.array(x, dtype=float).reshape(-1, 1)]
            for w, b in zip(W, B):
                outs.append(sigma(w @ outs[-1] + b))
            E = np.array(t, dtype=float).reshape(-1, 1) - outs[-1]
            for layer in reversed(range(len(W))):
                O, I = outs[layer + 1], outs[layer]  # noqa: E741 (seed 000's names)
                gradient = lr * E * O * (1 - O)
                E_below = W[layer].T @ E          # Hᵀ·E, with the weights before the update
                W[layer] = W[layer] + gradient @ I.T
                B[layer] = B[layer] + gradient
                E = W[layer].T @ E if update_first else E_below
    return W, [b.ravel() for b in B]


@pytest.mark.parametrize(("rule", "update_first"), [("raw_error", False),
                                                     ("raw_error_new_weights", True)])
def test_seed000_as_written_matches_raw_error_online(rule, update_first):
    example = examples.load(examples.find("seed000"))
    passes = 3
    W, B = seed000_train([lay.weights for lay in example.layers],
                         [lay.bias for lay in example.layers], example.inputs, example.targets,
                         example.learning_rate, passes, update_first)
    net, _ = R.train(example.layers, example.inputs, example.targets, "half_sse",
                     example.learning_rate, rule, "online", passes)
    for i, layer in enumerate(net):
        assert_close(layer.weights, W[i], rtol=1e-13, against="seed 000 as written", layer=i,
                     param="weights")
        assert_close(layer.bias, B[i], rtol=1e-13, against="seed 000 as written", layer=i,
                     param="bias")
