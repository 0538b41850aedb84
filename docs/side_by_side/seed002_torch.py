"""Seed 002 in PyTorch: the same step, with loss.backward() and torch.optim.SGD."""
import torch

# --8<-- [start:data]
# Data and weights, stored (outputs, inputs) as torch.nn.Linear stores them: h1 = i1·w1 + i2·w2.
torch.set_default_dtype(torch.float64)
i = torch.tensor([2.0, 3.0])
actual = torch.tensor([1.0])
W1 = torch.tensor([[0.12, 0.33], [0.15, 0.09]], requires_grad=True)  # [[w1, w2], [w3, w4]]
W2 = torch.tensor([[0.11, 0.12]], requires_grad=True)                # [[w5, w6]]
a = 0.05                                                             # learning rate
optimizer = torch.optim.SGD([W1, W2], lr=a)
# --8<-- [end:data]

# --8<-- [start:forward]
# Forward pass: no activation, no bias.
h = W1 @ i
prediction = W2 @ h
prediction.retain_grad()                     # keep ∂Error/∂prediction, the tutorial's Δ
# --8<-- [end:forward]

# --8<-- [start:backward]
# Error = ½(prediction − actual)².
error = (0.5 * (prediction - actual) ** 2).sum()

# Backward pass: autograd fills W.grad with ∂Error/∂W (the chain rule the tutorial derives).
optimizer.zero_grad()
error.backward()
delta = prediction.grad[0]
update_W1, update_W2 = a * W1.grad, a * W2.grad   # a·∂Error/∂w, e.g. a·Δ·h1 for w5
# --8<-- [end:backward]

# --8<-- [start:update]
# Update: SGD computes w ← w − a·∂Error/∂w.
optimizer.step()
# --8<-- [end:update]

# Forward pass again, with the new weights.
with torch.no_grad():
    h_after = W1 @ i
    prediction_after = W2 @ h_after

# Print every figure: name = value, at full precision.
names = ["w1", "w2", "w3", "w4", "w5", "w6"]
figures = {"h1": h[0], "h2": h[1], "prediction": prediction[0], "delta": delta,
           **{f"update_{n}": u for n, u in zip(names, [*update_W1.ravel(), *update_W2.ravel()])},
           **dict(zip(names, [*W1.ravel(), *W2.ravel()])),
           "h1_after": h_after[0], "h2_after": h_after[1], "prediction_after": prediction_after[0]}
for name, value in figures.items():
    print(f"{name} = {value.item()!r}")
