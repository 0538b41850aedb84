"""Seed 001's network (3 inputs, 4 sigmoid hidden neurons, 1 sigmoid output with a bias),
backprop by hand as a student writes it, with one mistake planted: the output delta is taken
to be the error, without the output's slope o(1 − o)."""

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def gradients(weights, biases, X, T):
    W_ih, W_ho = weights
    b_o = biases[1]
    hidden = sigmoid(X @ W_ih.T)
    output = sigmoid(hidden @ W_ho.T + b_o)
    delta_o = output - T          # the mistake: (output - T) * output * (1 - output) is meant
    delta_h = (delta_o @ W_ho) * hidden * (1 - hidden)
    return [delta_h.T @ X, delta_o.T @ hidden], [None, delta_o.sum(axis=0)]
