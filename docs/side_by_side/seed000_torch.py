"""Seed 000 in PyTorch: Hᵀ·E as the custom backward of a sigmoid layer, with torch.optim.SGD."""
import torch

torch.set_default_dtype(torch.float64)
inputs = torch.tensor([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
targets = torch.tensor([[0.9, 0.1], [0.1, 0.9], [0.9, 0.9], [0.1, 0.1]])
W1, W2, W3 = map(torch.tensor, (               # weights (outputs, inputs), then biases
    [[0.2, -0.4, 0.1], [0.5, 0.3, -0.2], [-0.3, 0.6, 0.4], [0.1, -0.1, 0.7]],
    [[0.4, -0.6, 0.3, 0.2], [-0.5, 0.2, 0.7, -0.1], [0.3, 0.5, -0.4, 0.6]],
    [[0.6, -0.3, 0.5], [-0.4, 0.7, 0.2]]))
B1, B2, B3 = map(torch.tensor, ([0.1, -0.2, 0.05, 0.3], [-0.1, 0.2, 0.1], [0.05, -0.15]))
optimizer = torch.optim.SGD([p.requires_grad_() for p in (W1, B1, W2, B2, W3, B3)], lr=0.5)

# --8<-- [start:errors]
class RawErrorLayer(torch.autograd.Function):  # out = σ(W·I + B); its backward sends back Hᵀ·E
    @staticmethod
    def forward(ctx, inp, W, B):
        out = torch.sigmoid(W @ inp + B)
        ctx.save_for_backward(inp, W, out)
        return out

    @staticmethod
    def backward(ctx, grad_out):               # grad_out = ∂E/∂out = −(this layer's errors)
        inp, W, out = ctx.saved_tensors
        grad_z = grad_out * out * (1 - out)    # through σ': W and B get their usual gradients…
        return grad_out @ W, torch.outer(grad_z, inp), grad_z  # …the input gets Hᵀ·grad_out
# --8<-- [end:errors]

def forward(x):                                # the first layer's input needs no error
    h = torch.sigmoid(W1 @ x + B1)
    return RawErrorLayer.apply(RawErrorLayer.apply(h, W2, B2), W3, B3)

def loss(samples):                             # ½ Σ (target − guess)², summed over the samples
    return sum(0.5 * ((t - forward(x)) ** 2).sum() for x, t in samples)

print(f"loss_before = {loss(zip(inputs, targets)).item()!r}")
# --8<-- [start:train]
for _ in range(1000):                          # 1,000 passes; one update per sample, in order
    for x, t in zip(inputs, targets):
        optimizer.zero_grad()                  # (gradients accumulate otherwise)
        loss([(x, t)]).backward()              # backward pass: Hᵀ·E in the two upper layers
        optimizer.step()                       # update: W ← W − lr·∂E/∂W
# --8<-- [end:train]

print(f"loss_after = {loss(zip(inputs, targets)).item()!r}")   # at full precision
for s, x in enumerate(inputs):
    for o, value in enumerate(forward(x).tolist()):
        print(f"out_s{s}_o{o + 1} = {value!r}")
