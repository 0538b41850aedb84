"""Seed 002 in NumPy, by hand: a 2-2-1 network, one step of gradient descent."""
import numpy as np

# --8<-- [start:data]
# Data and weights, as the tutorial gives them. Weights are stored (outputs, inputs):
# row j holds the weights into neuron j, so h1 = i1·w1 + i2·w2 (the tutorial's matrix, transposed).
i = np.array([2.0, 3.0])
actual = 1.0
W1 = np.array([[0.12, 0.33], [0.15, 0.09]])  # [[w1, w2], [w3, w4]]
W2 = np.array([[0.11, 0.12]])                # [[w5, w6]]
a = 0.05                                     # learning rate
# --8<-- [end:data]

# --8<-- [start:forward]
# Forward pass: no activation, no bias.
h = W1 @ i                                   # [h1, h2]
prediction = (W2 @ h)[0]
# --8<-- [end:forward]

# --8<-- [start:backward]
# Error = ½(prediction − actual)²; Δ = ∂Error/∂prediction = prediction − actual.
delta = prediction - actual

# Backward pass, the tutorial's formulas, with the weights before the update:
# ∂Error/∂w5 = Δ·h1, ∂Error/∂w6 = Δ·h2; ∂Error/∂w1 = Δ·w5·i1, …, ∂Error/∂w4 = Δ·w6·i2.
update_W2 = a * delta * h[None, :]           # [[a·Δ·h1, a·Δ·h2]]
update_W1 = a * delta * np.outer(W2[0], i)   # [[a·Δ·w5·i1, a·Δ·w5·i2], [a·Δ·w6·i1, a·Δ·w6·i2]]
# --8<-- [end:backward]

# --8<-- [start:update]
# Update: w ← w − a·∂Error/∂w.
W1, W2 = W1 - update_W1, W2 - update_W2
# --8<-- [end:update]

# Forward pass again, with the new weights.
h_after = W1 @ i
prediction_after = (W2 @ h_after)[0]

# Print every figure: name = value, at full precision.
names = ["w1", "w2", "w3", "w4", "w5", "w6"]
figures = {"h1": h[0], "h2": h[1], "prediction": prediction, "delta": delta,
           **{f"update_{n}": u for n, u in zip(names, [*update_W1.flat, *update_W2.flat])},
           **dict(zip(names, [*W1.flat, *W2.flat])),
           "h1_after": h_after[0], "h2_after": h_after[1], "prediction_after": prediction_after}
for name, value in figures.items():
    print(f"{name} = {float(value)!r}")
