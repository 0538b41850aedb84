"""Seed 001 in PyTorch: the rules by hand, the chain rule and the gradient by autograd."""
import torch

torch.set_default_dtype(torch.float64)

# --8<-- [start:data]
# The same network; who (w11, w21, w31, w41) and the bias are leaves autograd differentiates.
x = torch.tensor([0.9, 0.1, 0.8])
wih = torch.tensor([[0.9, 0.3, 0.4], [0.2, 0.8, 0.2], [0.1, 0.5, 0.6], [0.7, 0.1, 0.3]])
who = torch.tensor([[0.6, 0.4, 0.1, 0.2]], requires_grad=True)
b = torch.tensor([1.537768], requires_grad=True)
t = torch.tensor([1.0])
# --8<-- [end:data]

# --8<-- [start:forward]
h = torch.sigmoid(wih @ x).requires_grad_()   # a leaf too: autograd reports ∂E/∂h
o = torch.sigmoid(who @ h + b)
e = (t - o).detach()                          # e1 = 0.08
# --8<-- [end:forward]

# --8<-- [start:rules]
# The tutorial's two rules are no derivative: tensor arithmetic, as in NumPy.
w = who.detach()
e_proportional = (w / w.sum(dim=1, keepdim=True)).T @ e
e_raw = w.T @ e
# The chain rule is what autograd computes: the error of h is −∂E/∂h.
E = 0.5 * ((t - o) ** 2).sum()
E.backward()
e_exact = -h.grad
# --8<-- [end:rules]

# --8<-- [start:gradient]
grad_who, grad_b = who.grad, b.grad           # ∂E/∂who and ∂E/∂b, from the same backward()
# --8<-- [end:gradient]

figures = {"o1": o[0], "e1": e[0], "grad_b1": grad_b[0],
           **{f"grad_w{i}1": g for i, g in enumerate(grad_who[0], 1)},
           **{f"{rule}_h{i}": v for rule, errors in (("proportional", e_proportional),
                                                    ("raw", e_raw), ("exact", e_exact))
              for i, v in enumerate(errors, 1)}}
for name, value in figures.items():
    print(f"{name} = {value.item()!r}")
