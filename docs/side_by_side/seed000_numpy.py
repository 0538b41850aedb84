"""Seed 000 in NumPy, by hand: a 3-4-3-2 sigmoid network trained online with Hᵀ·E."""
import numpy as np

# Data, weights (outputs, inputs) and biases; learning rate.
inputs = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
targets = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.9], [0.1, 0.1]])
W = [np.array([[0.2, -0.4, 0.1], [0.5, 0.3, -0.2], [-0.3, 0.6, 0.4], [0.1, -0.1, 0.7]]),
     np.array([[0.4, -0.6, 0.3, 0.2], [-0.5, 0.2, 0.7, -0.1], [0.3, 0.5, -0.4, 0.6]]),
     np.array([[0.6, -0.3, 0.5], [-0.4, 0.7, 0.2]])]
B = [np.array([0.1, -0.2, 0.05, 0.3]), np.array([-0.1, 0.2, 0.1]), np.array([0.05, -0.15])]
lr = 0.5

# Forward pass, Y = σ(W·I + B) layer by layer: returns [input, output of layer 1, 2, 3].
def forward(x):
    outs = [x]
    for w, b in zip(W, B):
        outs.append(1 / (1 + np.exp(-(w @ outs[-1] + b))))
    return outs

# Error: the cost ½ Σ (target − guess)², summed over the data set.
def loss():
    return sum(0.5 * np.sum((t - forward(x)[-1]) ** 2) for x, t in zip(inputs, targets))

# --8<-- [start:train]
loss_before = loss()
for _ in range(1000):                            # 1,000 passes; one update per sample, in order
    for x, t in zip(inputs, targets):
        outs = forward(x)
        E = t - outs[-1]                         # output errors: target − guess
        for layer in reversed(range(len(W))):    # backward pass, last layer first
            out, inp = outs[layer + 1], outs[layer]
            gradient = lr * E * out * (1 - out)  # Lr · E ⊙ σ'(O), with σ'(O) = O ⊙ (1 − O)
            E = W[layer].T @ E                   # Hᵀ·E: the errors go back (weights before update)
            W[layer] += np.outer(gradient, inp)  # ΔW = Lr · (E ⊙ σ'(O)) · Iᵀ
            B[layer] += gradient                 # ΔB = Lr · (E ⊙ σ'(O))
# --8<-- [end:train]

# Print the loss before and after training, and the outputs after, at full precision.
print(f"loss_before = {float(loss_before)!r}")
print(f"loss_after = {float(loss())!r}")
for s, x in enumerate(inputs):
    for o, value in enumerate(forward(x)[-1]):
        print(f"out_s{s}_o{o + 1} = {float(value)!r}")
