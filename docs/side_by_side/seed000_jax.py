"""Seed 000 in JAX: Hᵀ·E as the custom VJP of a sigmoid layer, with jax.grad and optax.sgd."""
import jax
import jax.numpy as jnp
import optax

jax.config.update("jax_enable_x64", True)     # compute in float64, as NumPy does
inputs = jnp.array([[1.0, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1]])
targets = jnp.array([[0.9, 0.1], [0.1, 0.9], [0.9, 0.9], [0.1, 0.1]])
W1, W2, W3 = map(jnp.array, (                 # weights (outputs, inputs), then biases
    [[0.2, -0.4, 0.1], [0.5, 0.3, -0.2], [-0.3, 0.6, 0.4], [0.1, -0.1, 0.7]],
    [[0.4, -0.6, 0.3, 0.2], [-0.5, 0.2, 0.7, -0.1], [0.3, 0.5, -0.4, 0.6]],
    [[0.6, -0.3, 0.5], [-0.4, 0.7, 0.2]]))
B1, B2, B3 = map(jnp.array, ([0.1, -0.2, 0.05, 0.3], [-0.1, 0.2, 0.1], [0.05, -0.15]))
params = (W1, B1, W2, B2, W3, B3)             # what is trained

# --8<-- [start:errors]
def layer(inp, W, B):                         # out = σ(W·I + B)
    return jax.nn.sigmoid(W @ inp + B)

def raw_error_backward(saved, grad_out):      # grad_out = ∂E/∂out = −(this layer's errors)
    inp, W, B = saved
    _, vjp_W_B = jax.vjp(lambda W, B: layer(inp, W, B), W, B)  # W, B: their usual gradients…
    return grad_out @ W, *vjp_W_B(grad_out)   # …but the input gets Hᵀ·grad_out, without σ'

raw_error_layer = jax.custom_vjp(layer)       # the same layer, with that backward pass
raw_error_layer.defvjp(lambda *saved: (layer(*saved), saved), raw_error_backward)
# --8<-- [end:errors]

def forward(x, W1, B1, W2, B2, W3, B3):       # the first layer's input needs no error
    return raw_error_layer(raw_error_layer(layer(x, W1, B1), W2, B2), W3, B3)

def loss(params, samples):                    # ½ Σ (target − guess)², summed over the samples
    return sum(0.5 * jnp.sum((t - forward(x, *params)) ** 2) for x, t in samples)

grad, optimizer = jax.jit(jax.grad(loss)), optax.sgd(0.5)
state = optimizer.init(params)
print(f"loss_before = {float(loss(params, zip(inputs, targets)))!r}")
# --8<-- [start:train]
for _ in range(1000):                         # 1,000 passes; one update per sample, in order
    for x, t in zip(inputs, targets):
        updates, state = optimizer.update(grad(params, [(x, t)]), state)  # backward pass
        params = optax.apply_updates(params, updates)   # update: W ← W − lr·∂E/∂W
# --8<-- [end:train]

print(f"loss_after = {float(loss(params, zip(inputs, targets)))!r}")   # at full precision
for s, x in enumerate(inputs):
    for o, value in enumerate(forward(x, *params).tolist()):
        print(f"out_s{s}_o{o + 1} = {value!r}")
