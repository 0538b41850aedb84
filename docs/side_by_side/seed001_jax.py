"""Seed 001 in JAX: the rules by hand, the chain rule and the gradient by jax.grad."""
import jax
import jax.numpy as jnp

jax.config.update("jax_enable_x64", True)    # compute in float64, as NumPy does

# --8<-- [start:data]
# The same network; E is a function of who, the bias and h, so jax.grad can differentiate it.
x = jnp.array([0.9, 0.1, 0.8])
wih = jnp.array([[0.9, 0.3, 0.4], [0.2, 0.8, 0.2], [0.1, 0.5, 0.6], [0.7, 0.1, 0.3]])
who = jnp.array([[0.6, 0.4, 0.1, 0.2]])
b = jnp.array([1.537768])
t = jnp.array([1.0])
# --8<-- [end:data]

# --8<-- [start:forward]
h = jax.nn.sigmoid(wih @ x)
o = jax.nn.sigmoid(who @ h + b)
e = t - o                                     # e1 = 0.08
# --8<-- [end:forward]

# --8<-- [start:rules]
# The tutorial's two rules are no derivative: array arithmetic, as in NumPy.
e_proportional = (who / who.sum(axis=1, keepdims=True)).T @ e
e_raw = who.T @ e
# The chain rule is what jax.grad computes: the error of h is −∂E/∂h.
def E(who, b, h):
    return 0.5 * jnp.sum((t - jax.nn.sigmoid(who @ h + b)) ** 2)
e_exact = -jax.grad(E, argnums=2)(who, b, h)
# --8<-- [end:rules]

# --8<-- [start:gradient]
grad_who, grad_b = jax.grad(E, argnums=(0, 1))(who, b, h)   # ∂E/∂who and ∂E/∂b
# --8<-- [end:gradient]

figures = {"o1": o[0], "e1": e[0], "grad_b1": grad_b[0],
           **{f"grad_w{i}1": g for i, g in enumerate(grad_who[0], 1)},
           **{f"{rule}_h{i}": v for rule, errors in (("proportional", e_proportional),
                                                    ("raw", e_raw), ("exact", e_exact))
              for i, v in enumerate(errors, 1)}}
for name, value in figures.items():
    print(f"{name} = {float(value)!r}")
