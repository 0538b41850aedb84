"""Seed 001 in NumPy, by hand: the error of o1 sent back three ways, and the gradient."""
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# --8<-- [start:data]
# A 3-4-1 sigmoid network: who = [w11 w21 w31 w41], and the bias makes o1 = 0.92 for t1 = 1.
x = np.array([0.9, 0.1, 0.8])
wih = np.array([[0.9, 0.3, 0.4], [0.2, 0.8, 0.2], [0.1, 0.5, 0.6], [0.7, 0.1, 0.3]])
who = np.array([[0.6, 0.4, 0.1, 0.2]])
b = np.array([1.537768])
t = np.array([1.0])
# --8<-- [end:data]

# --8<-- [start:forward]
h = sigmoid(wih @ x)                   # h1 … h4
o = sigmoid(who @ h + b)               # o1 = 0.92
e = t - o                              # e1 = t1 − o1 = 0.08
# --8<-- [end:forward]

# --8<-- [start:rules]
# Split in proportion to the incoming weights: e1 · w11 / (w11 + w21 + w31 + w41) for h1.
e_proportional = (who / who.sum(axis=1, keepdims=True)).T @ e
# Without the denominator: who.T · e.
e_raw = who.T @ e
# The chain rule: the delta e ⊙ o(1 − o) goes back, not the error.
delta = e * o * (1 - o)
e_exact = who.T @ delta
# --8<-- [end:rules]

# --8<-- [start:gradient]
# E = ½(t − o)²: ∂E/∂w_i1 = −(t − o) · o(1 − o) · h_i, ∂E/∂b = −(t − o) · o(1 − o).
grad_who, grad_b = -np.outer(delta, h), -delta
# --8<-- [end:gradient]

figures = {"o1": o[0], "e1": e[0], "grad_b1": grad_b[0],
           **{f"grad_w{i}1": g for i, g in enumerate(grad_who[0], 1)},
           **{f"{rule}_h{i}": v for rule, errors in (("proportional", e_proportional),
                                                    ("raw", e_raw), ("exact", e_exact))
              for i, v in enumerate(errors, 1)}}
for name, value in figures.items():
    print(f"{name} = {float(value)!r}")
