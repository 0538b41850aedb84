"""Seed 002 in JAX: the same step, with jax.grad and optax.sgd."""
import jax
import jax.numpy as jnp
import optax

jax.config.update("jax_enable_x64", True)    # compute in float64, as NumPy does

# --8<-- [start:data]
# Data and weights, stored (outputs, inputs): row j holds the weights into neuron j.
i = jnp.array([2.0, 3.0])
actual = 1.0
params = (jnp.array([[0.12, 0.33], [0.15, 0.09]]),  # W1 = [[w1, w2], [w3, w4]]
          jnp.array([[0.11, 0.12]]))                # W2 = [[w5, w6]]
a = 0.05                                            # learning rate
# --8<-- [end:data]

# --8<-- [start:forward]
# Forward pass: no activation, no bias.
def forward(params):
    W1, W2 = params
    h = W1 @ i
    return h, (W2 @ h)[0]
# --8<-- [end:forward]

# --8<-- [start:backward]
# Error = ½(prediction − actual)².
def error(prediction):
    return 0.5 * (prediction - actual) ** 2

# Backward pass: jax.grad gives Δ = ∂Error/∂prediction, and ∂Error/∂W through the forward pass.
h, prediction = forward(params)
delta = jax.grad(error)(prediction)
grads = jax.grad(lambda params: error(forward(params)[1]))(params)
# --8<-- [end:backward]

# --8<-- [start:update]
# Update: optax's updates are −a·∂Error/∂w, and apply_updates adds them: w ← w − a·∂Error/∂w.
optimizer = optax.sgd(a)
updates, _ = optimizer.update(grads, optimizer.init(params))
params = optax.apply_updates(params, updates)
# --8<-- [end:update]

# Forward pass again, with the new weights; then print every figure at full precision.
h_after, prediction_after = forward(params)
names = ["w1", "w2", "w3", "w4", "w5", "w6"]
figures = {"h1": h[0], "h2": h[1], "prediction": prediction, "delta": delta,
           **{f"update_{n}": -u for n, u in zip(names, [*updates[0].ravel(), *updates[1].ravel()])},
           **dict(zip(names, [*params[0].ravel(), *params[1].ravel()])),
           "h1_after": h_after[0], "h2_after": h_after[1], "prediction_after": prediction_after}
for name, value in figures.items():
    print(f"{name} = {float(value)!r}")
