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
# # Seed 001, "Backpropagation in Neural Networks": the error sent back three ways
#
# The tutorial's numbers: output  = 0.92$, target  = 1$, error  = t_1 - o_1 =
# 0.08$, weights into $ from four hidden neurons {11}, w_{21}, w_{31}, w_{41} = 0.6, 0.4,
# 0.1, 0.2$. Around them, a complete 3-4-1 sigmoid network (the project's `seed001-*`
# examples); its output bias makes  = 0.92$.

# %%
import jax
import jax.numpy as jnp
import numpy as np
import torch

jax.config.update("jax_enable_x64", True)
torch.set_default_dtype(torch.float64)

x = np.array([0.9, 0.1, 0.8])
wih = np.array([[0.9, 0.3, 0.4], [0.2, 0.8, 0.2], [0.1, 0.5, 0.6], [0.7, 0.1, 0.3]])
who = np.array([[0.6, 0.4, 0.1, 0.2]])          # [w11 w21 w31 w41]
b = np.array([1.537768])
t = np.array([1.0])

def sigmoid(z):
    return 1 / (1 + np.exp(-z))

h = sigmoid(wih @ x)
o = sigmoid(who @ h + b)
e = t - o
print("o1 =", o[0], " e1 =", e[0])
assert round(o[0], 2) == 0.92 and round(e[0], 2) == 0.08

# %% [markdown]
# ## The tutorial's two rules, by hand
#
# First, each hidden neuron gets a share of $ in proportion to its weight:
# bash.08 \cdot 0.6 / (0.6 + 0.4 + 0.1 + 0.2) = 0.037$ for $. Then, dropping the
# denominator: {hidden} = who^\top \cdot e$.

# %%
e_proportional = (who / who.sum(axis=1, keepdims=True)).T @ e
e_raw = who.T @ e
print("proportional:", e_proportional.ravel())
print("who.T · e:   ", e_raw.ravel())
assert round(e_proportional[0], 3) == 0.037

# %% [markdown]
# ## The chain rule: what autograd computes
#
# With  = \tfrac12 (t - o)^2$ the error that reaches $ is hmB\partial E/\partial h =
# (e \odot o(1 - o)) \cdot who$: the delta goes back, not the error. NumPy by hand, then PyTorch's
# `backward()` and `jax.grad` from the loss alone:

# %%
e_exact = who.T @ (e * o * (1 - o))                                  # NumPy

h_t = torch.tensor(h, requires_grad=True)                            # PyTorch
o_t = torch.sigmoid(torch.tensor(who) @ h_t + torch.tensor(b))
E_t = 0.5 * ((torch.tensor(t) - o_t) ** 2).sum()
E_t.backward()

def E(h):                                                            # JAX
    return 0.5 * jnp.sum((t - jax.nn.sigmoid(jnp.array(who) @ h + b)) ** 2)
grad_h = jax.grad(E)(jnp.array(h))

print("chain rule:  ", e_exact.ravel())
print("PyTorch:     ", -h_t.grad.numpy())
print("JAX:         ", -np.asarray(grad_h))
assert np.allclose(e_exact.ravel(), -h_t.grad.numpy(), rtol=1e-14)
assert np.allclose(e_exact.ravel(), -np.asarray(grad_h), rtol=1e-14)

# %% [markdown]
# The three differ: who.T · e leaves out the output's slope (1 - o) = 0.0736$, so it is the
# gradient's direction, about 13.6 times longer; the proportional split divides by the weights'
# sum as well. Only the chain rule is what the frameworks compute.

# %%
print("who.T·e / chain rule:", (e_raw.ravel() / e_exact.ravel()).round(4))
assert np.allclose(e_raw.ravel() / e_exact.ravel(), 1 / (o * (1 - o)))
