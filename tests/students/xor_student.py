"""Backprop for the XOR network (2 inputs, 3 sigmoid hidden neurons, 1 sigmoid output, E =
½ Σ (t − o)²), written the way a student writes it after the tutorials: explicit layers, a loop
over the samples, the tutorials' names. ``gradients`` and ``step`` are right; every other
function makes one mistake of the kind students make (tests/test_verify.py names which)."""

import numpy as np


def sig(x):
    return 1.0 / (1.0 + np.exp(-x))


def backprop(weights, biases, X, T, half=0.5, slope="output", hidden_error="chain",
             output_delta="full", bias_grads=True):
    W1, W2 = weights
    b1, b2 = biases
    dW1, db1 = np.zeros_like(W1), np.zeros_like(b1)
    dW2, db2 = np.zeros_like(W2), np.zeros_like(b2)
    for x, t in zip(X, T):
        h = sig(W1 @ x + b1)
        o = sig(W2 @ h + b2)
        err = t - o                                   # the tutorials' error
        dE_do = -2 * half * err
        if output_delta == "full":
            d_out = dE_do * (o * (1 - o) if slope == "output" else sig(o) * (1 - sig(o)))
        else:
            d_out = dE_do                             # "the output delta is the error"
        if hidden_error == "chain":
            e_hidden = W2.T @ d_out
        elif hidden_error == "raw":
            e_hidden = W2.T @ dE_do                   # who.T · e
        else:
            e_hidden = (W2 / W2.sum(axis=1, keepdims=True)).T @ dE_do
        d_hid = e_hidden * (h * (1 - h) if slope == "output" else sig(h) * (1 - sig(h)))
        dW2 += np.outer(d_out, h)
        db2 += d_out
        dW1 += np.outer(d_hid, x)
        db1 += d_hid
    return [dW1, dW2], ([db1, db2] if bias_grads else [None, None])


def gradients(weights, biases, X, T):
    return backprop(weights, biases, X, T)


def forgot_half(weights, biases, X, T):
    return backprop(weights, biases, X, T, half=1.0)


def averaged(weights, biases, X, T):
    gw, gb = backprop(weights, biases, X, T)
    n = len(X)
    return [g / n for g in gw], [g / n for g in gb]


def wrong_sign(weights, biases, X, T):
    gw, gb = backprop(weights, biases, X, T)
    return [-g for g in gw], [-g for g in gb]


def transposed_hidden(weights, biases, X, T):
    (dW1, dW2), gb = backprop(weights, biases, X, T)
    return [dW1.T, dW2], gb                           # inputs × hidden, as x·W writes it


def errors_not_deltas(weights, biases, X, T):
    return backprop(weights, biases, X, T, hidden_error="raw")


def split_by_weights(weights, biases, X, T):
    return backprop(weights, biases, X, T, hidden_error="proportional")


def sigmoid_of_output(weights, biases, X, T):
    return backprop(weights, biases, X, T, slope="again")


def output_delta_is_error(weights, biases, X, T):
    return backprop(weights, biases, X, T, output_delta="error")


def no_bias(weights, biases, X, T):
    return backprop(weights, biases, X, T, bias_grads=False)


# --- one training step, online: one update per sample ---------------------------------------------
def step(weights, biases, X, T, lr, direction=-1.0, rate=None, online=True):
    W1, W2 = (w.copy() for w in weights)
    b1, b2 = (b.copy() for b in biases)
    rate = lr if rate is None else rate
    batches = [(X[i:i + 1], T[i:i + 1]) for i in range(len(X))] if online else [(X, T)]
    for xs, ts in batches:
        (dW1, dW2), (db1, db2) = backprop([W1, W2], [b1, b2], xs, ts)
        W1, W2 = W1 + direction * rate * dW1, W2 + direction * rate * dW2
        b1, b2 = b1 + direction * rate * db1, b2 + direction * rate * db2
    return [W1, W2], [b1, b2]


def step_through_new_weights(weights, biases, X, T, lr):
    W1, W2 = (w.copy() for w in weights)
    b1, b2 = (b.copy() for b in biases)
    for x, t in zip(X, T):
        h = sig(W1 @ x + b1)
        o = sig(W2 @ h + b2)
        d_out = -(t - o) * o * (1 - o)
        W2 = W2 - lr * np.outer(d_out, h)            # the output layer first ...
        b2 = b2 - lr * d_out
        d_hid = (W2.T @ d_out) * h * (1 - h)        # ... then its error, through the new W2
        W1 = W1 - lr * np.outer(d_hid, x)
        b1 = b1 - lr * d_hid
    return [W1, W2], [b1, b2]


def step_uphill(weights, biases, X, T, lr):
    return step(weights, biases, X, T, lr, direction=1.0)


def step_without_lr(weights, biases, X, T, lr):
    return step(weights, biases, X, T, lr, rate=1.0)


def step_all_at_once(weights, biases, X, T, lr):
    return step(weights, biases, X, T, lr, online=False)
