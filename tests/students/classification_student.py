"""Backprop for two classification examples, written the way a student writes it after a course:
a loop over the samples, p − t at the output. ``softmax_gradients`` (softmax-batch: tanh hidden
layer, three logits, cross-entropy) and ``bce_gradients`` (xor-bce: sigmoid layers, BCELoss on
the sigmoid output) are right; every other function makes one classic mistake
(tests/test_verify.py names which)."""

import numpy as np


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def softmax_backprop(weights, biases, X, T, mean=True, twice=False):
    W1, W2 = weights
    b1, b2 = biases
    dW1, db1 = np.zeros_like(W1), np.zeros_like(b1)
    dW2, db2 = np.zeros_like(W2), np.zeros_like(b2)
    n = len(X) if mean else 1
    for x, t in zip(X, T):
        h = np.tanh(W1 @ x + b1)
        z = W2 @ h + b2
        if twice:        # the output layer's softmax, then the loss's own
            s = softmax(z)
            q = softmax(s)
            d_s = (q - t) / n
            d_out = s * (d_s - s @ d_s)           # back through the first softmax
        else:
            d_out = (softmax(z) - t) / n          # p − t: the slopes cancel
        d_hid = (W2.T @ d_out) * (1 - h**2)
        dW2 += np.outer(d_out, h)
        db2 += d_out
        dW1 += np.outer(d_hid, x)
        db1 += d_hid
    return [dW1, dW2], [db1, db2]


def softmax_gradients(weights, biases, X, T):
    return softmax_backprop(weights, biases, X, T)


def softmax_forgot_the_mean(weights, biases, X, T):
    return softmax_backprop(weights, biases, X, T, mean=False)


def softmax_applied_twice(weights, biases, X, T):
    return softmax_backprop(weights, biases, X, T, twice=True)


def bce_backprop(weights, biases, X, T, mean=True, keep_slope=False):
    W1, W2 = weights
    b1, b2 = biases
    dW1, db1 = np.zeros_like(W1), np.zeros_like(b1)
    dW2, db2 = np.zeros_like(W2), np.zeros_like(b2)
    N = T.size if mean else 1
    for x, t in zip(X, T):
        h = sig(W1 @ x + b1)
        p = sig(W2 @ h + b2)
        d_out = (p - t) / N
        if keep_slope:   # the squared error's habit
            d_out = d_out * p * (1 - p)
        d_hid = (W2.T @ d_out) * h * (1 - h)
        dW2 += np.outer(d_out, h)
        db2 += d_out
        dW1 += np.outer(d_hid, x)
        db1 += d_hid
    return [dW1, dW2], [db1, db2]


def bce_gradients(weights, biases, X, T):
    return bce_backprop(weights, biases, X, T)


def bce_forgot_the_mean(weights, biases, X, T):
    return bce_backprop(weights, biases, X, T, mean=False)


def bce_slope_kept(weights, biases, X, T):
    return bce_backprop(weights, biases, X, T, keep_slope=True)
