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
# # Seed 002, "Back-Propagation": one step by hand, with PyTorch and with JAX
#
# A 2-2-1 network without biases or activations: inputs $[2, 3]$, target $1$, weights
# $w_1 \ldots w_6 = 0.12, 0.33, 0.15, 0.09, 0.11, 0.12$, learning rate $a = 0.05$, error
# $\tfrac12(\text{prediction} - \text{actual})^2$. Every cell below computes one of the
# tutorial's steps three times and checks them against each other and against the figures the
# tutorial prints. Weights are stored (outputs, inputs), as `torch.nn.Linear` stores them: the
# tutorial's matrix $\begin{bmatrix} w_1 & w_3 \\ w_2 & w_4 \end{bmatrix}$, transposed.

# %%
import jax
import jax.numpy as jnp
import numpy as np
import torch

jax.config.update("jax_enable_x64", True)       # float64 everywhere, as NumPy
torch.set_default_dtype(torch.float64)

i = np.array([2.0, 3.0])
actual = 1.0
W1 = np.array([[0.12, 0.33], [0.15, 0.09]])     # [[w1, w2], [w3, w4]]
W2 = np.array([[0.11, 0.12]])                   # [[w5, w6]]
a = 0.05

# %% [markdown]
# ## Forward pass: $h = W_1 i$, prediction $= W_2 h$
#
# The tutorial prints $h = [1.23, 0.57]$ and prediction $= 0.2037$.

# %%
h = W1 @ i                                      # NumPy
prediction = (W2 @ h)[0]

W1_t = torch.tensor(W1, requires_grad=True)     # PyTorch: leaves that autograd differentiates
W2_t = torch.tensor(W2, requires_grad=True)
h_t = W1_t @ torch.tensor(i)
prediction_t = (W2_t @ h_t)[0]

def forward(W1, W2):                            # JAX: a function, for jax.grad
    h = W1 @ jnp.array(i)
    return h, (W2 @ h)[0]
h_j, prediction_j = forward(jnp.array(W1), jnp.array(W2))

print("h:", h, h_t.detach().numpy(), np.asarray(h_j))
print("prediction:", prediction, prediction_t.item(), float(prediction_j))
assert np.allclose(h, [1.23, 0.57], atol=5e-3) and round(prediction, 4) == 0.2037
assert np.allclose(h, h_t.detach().numpy(), rtol=1e-15) and np.allclose(h, h_j, rtol=1e-15)

# %% [markdown]
# ## Backward pass: $\Delta = $ prediction $-$ actual, then the chain rule
#
# By hand, $\partial E/\partial w_5 = \Delta h_1$ and $\partial E/\partial w_1 = \Delta w_5 i_1$.
# PyTorch's `backward()` and `jax.grad` compute the same from the loss alone.

# %%
delta = prediction - actual                     # NumPy, the tutorial's formulas
grad_W2 = delta * h[None, :]                    # [[Δ·h1, Δ·h2]]
grad_W1 = delta * np.outer(W2[0], i)            # [[Δ·w5·i1, Δ·w5·i2], [Δ·w6·i1, Δ·w6·i2]]

error_t = 0.5 * (prediction_t - actual) ** 2    # PyTorch
error_t.backward()

def error(W1, W2):                              # JAX
    return 0.5 * (forward(W1, W2)[1] - actual) ** 2
grad_W1_j, grad_W2_j = jax.grad(error, argnums=(0, 1))(jnp.array(W1), jnp.array(W2))

print("Δ =", delta)
print("∂E/∂[w5 w6]:", grad_W2, W2_t.grad.numpy(), np.asarray(grad_W2_j))
assert round(delta, 4) == -0.7963
for by_hand, torch_grad, jax_grad in ((grad_W1, W1_t.grad, grad_W1_j),
                                      (grad_W2, W2_t.grad, grad_W2_j)):
    assert np.allclose(by_hand, torch_grad.numpy(), rtol=1e-14)
    assert np.allclose(by_hand, np.asarray(jax_grad), rtol=1e-14)

# %% [markdown]
# ## The update: $w \leftarrow w - a\,\partial E/\partial w$
#
# The tutorial prints $w_5, w_6 = 0.16, 0.14$ and $\begin{bmatrix} w_1 & w_3 \\ w_2 & w_4
# \end{bmatrix} = \begin{bmatrix} 0.13 & 0.16 \\ 0.34 & 0.10 \end{bmatrix}$; its products
# $a\Delta h_1 = -0.0478$ and $a \Delta h_2 = -0.0222$ are misprints (see the errata page): the
# true ones are below, and the new weights still round to the printed ones.

# %%
new_W1, new_W2 = W1 - a * grad_W1, W2 - a * grad_W2               # NumPy

optimizer = torch.optim.SGD([W1_t, W2_t], lr=a)                     # PyTorch: SGD does it
optimizer.step()

new_W1_j, new_W2_j = jnp.array(W1) - a * grad_W1_j, jnp.array(W2) - a * grad_W2_j   # JAX

print("a·Δ·[h1 h2] =", a * grad_W2)
print("new [w5 w6]:", new_W2, W2_t.detach().numpy(), np.asarray(new_W2_j))
assert np.allclose(new_W2, [[0.16, 0.14]], atol=5e-3)
assert np.allclose(new_W1.T, [[0.13, 0.16], [0.34, 0.10]], atol=5e-3)
assert np.allclose(new_W1, W1_t.detach().numpy(), rtol=1e-15)
assert np.allclose(new_W1, np.asarray(new_W1_j), rtol=1e-15)

# %% [markdown]
# ## The forward pass again
#
# With the new weights the tutorial prints $h = [1.29, 0.63]$ and prediction $0.29$: closer
# to the target 1.

# %%
h_after = new_W1 @ i
prediction_after = (new_W2 @ h_after)[0]
print("h after:", h_after, "prediction after:", prediction_after)
assert np.allclose(h_after, [1.29, 0.63], atol=5e-3) and round(prediction_after, 2) == 0.29
