"""Backprop for any depth, written as a loop over the layers (as seed 000 writes it, with column
vectors), for the tests' tanh-mse example: tanh hidden layer, identity outputs, mse over every
sample and output, one batch update. ``gradients`` and ``step`` are right; the others each make
one mistake (tests/test_verify.py names which)."""

import numpy as np

ACT = {"tanh": (np.tanh, lambda a: 1 - a * a), "identity": (lambda z: z, np.ones_like)}
KINDS = ["tanh", "identity"]


def grads(weights, biases, X, T, two=2.0, mean=True):
    n, m = T.shape
    G = [np.zeros_like(W) for W in weights]
    B = [np.zeros_like(b) for b in biases]
    for x, t in zip(X, T):
        outs = [x.reshape(-1, 1)]
        for W, b, kind in zip(weights, biases, KINDS):
            outs.append(ACT[kind][0](W @ outs[-1] + b.reshape(-1, 1)))
        E = t.reshape(-1, 1) - outs[-1]
        dE = -two * E / (n * m if mean else 1)
        for k in reversed(range(len(weights))):
            D = dE * ACT[KINDS[k]][1](outs[k + 1])
            G[k] += D @ outs[k].T
            B[k] += D.ravel()
            dE = weights[k].T @ D
    return G, B


def gradients(weights, biases, X, T):
    return grads(weights, biases, X, T)


def forgot_the_two(weights, biases, X, T):
    return grads(weights, biases, X, T, two=1.0)


def forgot_the_mean(weights, biases, X, T):
    return grads(weights, biases, X, T, mean=False)


def step(weights, biases, X, T, lr):
    G, B = grads(weights, biases, X, T)
    return [W - lr * g for W, g in zip(weights, G)], [b - lr * g for b, g in zip(biases, B)]


def step_sample_by_sample(weights, biases, X, T, lr):
    for i in range(len(X)):
        G, B = grads(weights, biases, X[i:i + 1], T[i:i + 1])     # the loss of one sample
        weights = [W - lr * g for W, g in zip(weights, G)]
        biases = [b - lr * g for b, g in zip(biases, B)]
    return weights, biases
