"""``padded_step`` with ``jax.grad``: a padded stack of networks of many architectures in one
call (``reference/padded.py`` states the padding and the result), compiled once per shape,
mode and dtype, whatever the architectures in it.

The graph is ``jax_impl/backprop.py``'s, written for one network and ``jax.vmap``-ped over the
stack, with every choice an architecture makes taken per network: each activation and each loss
is computed and the network's own selected (``jnp.select``), and every slot is a
``jax.custom_vjp`` whose backward sends the network's rule's error to its input (the chain rule,
by ``jax.vjp``, under ``exact``). Nothing is differentiated by hand. A gradient-descent update
is ``p − η·g``, the number ``optax.sgd`` computes (``p + (−η·g)``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jax_impl import activations, losses
from reference.padded import LOSS_FORMS, Padded, unmoved
from reference.types import ACTIVATIONS, RULES, Gradients, Layer, StackedStep


def _dense(a_prev, weights, bias, activation, neurons):
    """One slot, a = f(a_prev Wᵀ + b) with the network's f, zero on padded neurons."""
    z = a_prev @ weights.T + bias
    a = jnp.select([activation == code for code in range(len(ACTIVATIONS))],
                   [activations.FUNCTIONS[name](z) for name in ACTIVATIONS])
    return jnp.where(neurons, a, 0.0)


# --8<-- [start:send_back]
def _send_back(rule, weights, neurons, error, chain, grad_w, lr):
    """The cotangent for a slot's input under the network's ``rule``: autograd's own (``chain``)
    under ``exact``, else the error times the rule's matrix, as ``jax_impl.backprop._send_back``
    computes it; a padded row's sum is 0, and it is divided by 1 instead (no error reaches
    it)."""
    sums = jnp.where(neurons[:, None], weights.sum(axis=-1, keepdims=True), 1.0)
    matrix = {"raw_error": weights, "proportional": weights / sums,
              "raw_error_new_weights": weights - lr * grad_w}
    rules = [name for name in RULES if name != "exact"]
    chosen = jnp.select([rule == RULES.index(name) for name in rules],
                        [matrix[name] for name in rules])
    return jnp.where(rule == RULES.index("exact"), chain, error @ chosen)
# --8<-- [end:send_back]


@jax.custom_vjp
def _ruled_dense(a_prev, weights, bias, activation, neurons, rule, lr):
    return _dense(a_prev, weights, bias, activation, neurons)


def _ruled_dense_fwd(a_prev, weights, bias, activation, neurons, rule, lr):
    # The slot's VJP, kept for the backward pass: the ordinary one, by autograd.
    a, vjp = jax.vjp(lambda a, w, b: _dense(a, w, b, activation, neurons), a_prev, weights, bias)
    return a, (vjp, weights, neurons, rule, lr)


def _ruled_dense_bwd(saved, grad):
    vjp, weights, neurons, rule, lr = saved
    # Weights, bias and the chain rule's input cotangent: the ordinary VJP of the same slot.
    chain, grad_w, grad_b = vjp(grad)
    grad_in = _send_back(rule, weights, neurons, grad, chain, grad_w, lr)
    return grad_in, grad_w, grad_b, None, None, None, jnp.zeros_like(lr)


_ruled_dense.defvjp(_ruled_dense_fwd, _ruled_dense_bwd)


def _outputs(net, params, X, probes, first):
    """Every slot's output a_l (plus its zero probe); an inactive slot's is its input. Slots
    below ``first`` are inactive in every network of the call, and are not computed."""
    a, outs = X, []
    for slot, (weights, bias) in enumerate(zip(*params)):
        def dense(a, weights=weights, bias=bias, slot=slot):
            return jnp.where(net["active"][slot], _ruled_dense(
                a, weights, bias, net["activations"][slot], net["neurons"][slot], net["rules"],
                net["lr"]), a)
        a = lax.cond(slot >= first, dense, lambda a: a, a) + probes[slot]
        outs.append(a)
    return outs


def _loss(net, outputs, T, samples, divisor):
    """The network's loss: its loss's summands (optax's functions) over its real samples and
    outputs, divided as that loss divides. Cross-entropy's padded classes get the lowest logit,
    whose probability is 0."""
    outputs_mask = net["neurons"][-1]
    elements = samples[:, None] & outputs_mask
    logits = jnp.where(outputs_mask, outputs, jnp.finfo(outputs.dtype).min)
    each = []
    for form in LOSS_FORMS:
        if form.startswith("cross_entropy"):
            each.append(jnp.where(samples, losses.SUMMANDS[form](logits, T), 0.0).sum())
        else:
            each.append(jnp.where(elements, losses.SUMMANDS[form](outputs, T), 0.0).sum())
    return jnp.stack(each)[net["losses"]] / divisor


def _one_network(mode):
    """Loss, gradients and errors, the step and the loss after it, for one padded network;
    ``first`` and ``steps`` are the call's (its lowest active slot, its most samples)."""

    def objective(params, probes, net, X, T, samples, divisor, first):
        return _loss(net, _outputs(net, params, X, probes, first)[-1], T, samples, divisor)

    gradient = jax.value_and_grad(objective, argnums=(0, 1))

    def descend(params, grads, lr, train_bias):
        (W, b), (gW, gb) = params, grads
        return W - lr * gW, b - lr * jnp.where(train_bias[:, None], gb, 0.0)

    def run(params, net, X, T, samples, divisor, one, first, steps):
        probes = jnp.zeros((len(params[0]), *X.shape), X.dtype)
        loss, (grads, grad_probes) = gradient(params, probes, net, X, T, samples, divisor,
                                              first)
        if mode == "batch":
            after = descend(params, grads, net["lr"], net["train_bias"])
        else:
            def update(i, params):
                x, t, real = X[i, None], T[i, None], samples[i, None]
                _, (g, _) = gradient(params, probes[:, :1], net, x, t, real, one, first)
                return descend(params, g, net["lr"], net["train_bias"])
            after = lax.fori_loop(0, steps, update, params)
        loss_after = objective(after, probes, net, X, T, samples, divisor, first)
        gW, gb = grads
        # Errors in the tutorials' sign, e_l = −∂E/∂a_l; zero in inactive slots.
        errors = jnp.where(net["active"][:, None, None], -grad_probes, 0.0)
        return (loss, gW, jnp.where(net["train_bias"][:, None], gb, 0.0), errors, after,
                loss_after)

    return run


# Networks per compiled call: a stack is computed CHUNK networks at a time (the last call filled
# with zero networks), so that one compiled function serves every stack of a mode and dtype.
CHUNK = 512


@functools.cache
def _compiled(mode: str):
    """One compiled function per mode; jax.jit compiles it again for a new shape or dtype."""
    every = (0,) * 7
    return jax.jit(jax.vmap(_one_network(mode), in_axes=(*every, None, None)))


def _chunk(padded: Padded, mode: str):
    """The compiled function's results for the CHUNK networks of ``padded``, as NumPy arrays:
    computed from the lowest slot active in any of them and, online, for as many samples as
    the most any has."""
    net = {name: getattr(padded, name) for name in
           ("activations", "neurons", "active", "train_bias", "losses", "rules", "lr")}
    active = padded.active.any(0)
    first = int(np.argmax(active)) if active.any() else len(active)
    found = _compiled(mode)((padded.weights, padded.biases), net, padded.X, padded.T,
                            padded.samples, padded.divisor(), padded.divisor(one_sample=True),
                            first, int(padded.samples.sum(-1).max()))
    return jax.tree.map(np.asarray, found)


def _chunks(padded: Padded, order):
    """(rows, count, chunk) for every CHUNK networks of ``padded`` in ``order``: the chunk's
    first ``count`` networks are those ``rows`` of ``padded``; a chunk is a slice of the stack
    where its rows are in order already, else their copy, and the last is filled with zero
    networks."""
    in_place = unmoved(order)
    for start in range(0, len(order), CHUNK):
        count = min(CHUNK, len(order) - start)
        rows = slice(start, start + count) if in_place else order[start:start + count]
        if in_place and count == CHUNK:
            yield rows, count, padded.take(rows)
        else:
            yield rows, count, Padded(*(_filled(field, order[start:start + count])
                                        for field in padded))


def _filled(field, rows):
    """The rows ``rows`` of ``field``, then zero rows (zero networks) up to CHUNK."""
    filled = np.zeros((CHUNK, *field.shape[1:]), field.dtype)
    np.take(field, rows, axis=0, out=filled[:len(rows)])
    return filled


def padded_step(padded: Padded, mode: str) -> StackedStep:
    """Loss, gradients, one plain gradient-descent step and the loss after it, for every
    network of ``padded`` (see ``reference/padded.py``). The networks are computed in order of
    their depth (batch) or samples (online, ``Padded.order``), so that a chunk's networks are
    alike in what its call computes for them; each chunk's results are written in its rows."""
    count, found = len(padded.X), None
    for rows, size, chunk in _chunks(padded, padded.order(mode)):
        part = jax.tree.leaves(_chunk(chunk, mode))
        # An array per slot is written slot first, so that each slot's is contiguous.
        found = found or [np.empty((count,) if array.ndim == 1 else
                                   (array.shape[1], count, *array.shape[2:]), array.dtype)
                          for array in part]
        for whole, array in zip(found, part):
            if array.ndim == 1:
                whole[rows] = array[:size]
            else:
                whole[:, rows] = np.moveaxis(array[:size], 1, 0)
    loss_before, gW, gb, errors, W, b, loss_after = found
    return StackedStep(loss_before, Gradients(tuple(gW), tuple(gb), tuple(errors)),
                       tuple(Layer(w, v, "padded") for w, v in zip(W, b)), loss_after)


__all__ = ["padded_step"]
