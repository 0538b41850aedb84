# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Seed 000, "Backpropagation and Gradient Descent": ^\top \cdot E$ with sigmoid layers
#
# The tutorial's rule, for "any number of hidden layers": the errors go back as ^\top \cdot E$
# (no slope), and each layer moves by $\Delta W = Lr \cdot (E \odot O(1 - O)) \cdot I^\top$,
# $\Delta B = Lr \cdot (E \odot O(1 - O))$, one sample at a time. Its pictures are missing, so
# the network is the project's own: 3-4-3-2 sigmoid layers with biases, four samples.

# %%
import jax
import jax.numpy as jnp
import numpy as np
import torch

jax.config.update("jax_enable_x64", True)
torch.set_default_dtype(torch.float64)

inputs = np.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
targets = np.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.9], [0.1, 0.1]])
W = [np.array([[0.2, -0.4, 0.1], [0.5, 0.3, -0.2], [-0.3, 0.6, 0.4], [0.1, -0.1, 0.7]]),
     np.array([[0.4, -0.6, 0.3, 0.2], [-0.5, 0.2, 0.7, -0.1], [0.3, 0.5, -0.4, 0.6]]),
     np.array([[0.6, -0.3, 0.5], [-0.4, 0.7, 0.2]])]
B = [np.array([0.1, -0.2, 0.05, 0.3]), np.array([-0.1, 0.2, 0.1]), np.array([0.05, -0.15])]

def forward(W, B, x):
    outs = [x]
    for w, b in zip(W, B):
        outs.append(1 / (1 + np.exp(-(w @ outs[-1] + b))))
    return outs

# %% [markdown]
# ## One update by hand, the tutorial's way, against the gradient
#
# For the first sample, the tutorial's $\Delta W$ of the first layer, next to
# hmBLr\,\partial E/\partial W$ from PyTorch's `backward()` and from `jax.grad`
# ( = \tfrac12 \sum (t - o)^2$). They differ: ^\top \cdot E$ is not the chain rule.

# %%
lr, x, t = 0.5, inputs[0], targets[0]
outs = forward(W, B, x)
E = t - outs[-1]
steps = [None] * 3
for layer in reversed(range(3)):
    out = outs[layer + 1]
    gradient = lr * E * out * (1 - out)           # Lr · E ⊙ σ'(O)
    steps[layer] = np.outer(gradient, outs[layer])
    E = W[layer].T @ E                           # Hᵀ·E, with the weights before the update

Ws_t = [torch.tensor(w, requires_grad=True) for w in W]          # PyTorch: the true gradient
a = torch.tensor(x)
for w, b in zip(Ws_t, B):
    a = torch.sigmoid(w @ a + torch.tensor(b))
(0.5 * ((torch.tensor(t) - a) ** 2).sum()).backward()

def loss(W):                                                       # JAX: the same
    a = jnp.array(x)
    for w, b in zip(W, B):
        a = jax.nn.sigmoid(w @ a + b)
    return 0.5 * jnp.sum((t - a) ** 2)
grads_j = jax.grad(loss)([jnp.array(w) for w in W])

true_step = -lr * Ws_t[0].grad.numpy()
cosine = np.sum(steps[0] * true_step) / np.linalg.norm(steps[0]) / np.linalg.norm(true_step)
print("tutorial's ΔW, layer 1:\n", steps[0].round(5))
print("−Lr·∂E/∂W, layer 1:\n", true_step.round(5))
print(f"cosine between them: {cosine:.4f}, length ratio "
      f"{np.linalg.norm(steps[0]) / np.linalg.norm(true_step):.2f}")
assert np.allclose(true_step, -lr * np.asarray(grads_j[0]), rtol=1e-13)
assert np.allclose(steps[2], -lr * Ws_t[2].grad.numpy(), rtol=1e-13)   # the top layer agrees

# %% [markdown]
# ## Trained for 1,000 passes, it learns all the same
#
# ^\top \cdot E$ is not the gradient, but with these sigmoid layers it still descends: after
# 1,000 online passes every output lies within 0.05 of its target.

# %%
for _ in range(1000):
    for x, t in zip(inputs, targets):
        outs = forward(W, B, x)
        E = t - outs[-1]
        for layer in reversed(range(3)):
            out, inp = outs[layer + 1], outs[layer]
            gradient = lr * E * out * (1 - out)
            E = W[layer].T @ E
            W[layer] = W[layer] + np.outer(gradient, inp)
            B[layer] = B[layer] + gradient
outputs = np.array([forward(W, B, x)[-1] for x in inputs])
print(outputs.round(3))
assert np.all(np.abs(outputs - targets) <= 0.05)
