"""Forward pass, gradients and training with ``jax.grad``, ``jax.jit`` and optax (``optax.sgd``,
or the optimizer asked for, in optax's pieces: ``_optax_optimizer``).

The contract (names, shapes, signs) is stated once in ``reference/__init__.py``, and the
decorators of ``reference/contract.py`` check and convert every argument and result. Nothing here
differentiates by hand: every derivative is a JAX vector–Jacobian product (VJP).

* ``exact`` is the plain graph ``a_l = f_l(a_{l−1} W_lᵀ + b_l)``; autograd is the chain rule.
* ``raw_error`` and ``proportional`` are the same graph with one thing changed: every layer above
  the first is a ``jax.custom_vjp`` whose backward receives ``g = ∂E/∂a_l`` and returns, for its
  input ``a_{l−1}``, the rule's error (``g W`` or ``g (W / row sums)``) instead of the chain rule,
  while its weight and bias cotangents are the ordinary ``jax.vjp`` of the same layer.
* The reported errors are ``e_l = −∂E/∂a_l``: minus the gradient with respect to a zero "probe"
  added to each layer's output, i.e. minus the cotangent that reaches a_l.

Parameters travel as plain nested tuples: ``params[l] = (W_l, b_l or None)`` holds what is
trained, ``frozen[l]`` a bias held fixed (or None). A jitted function is built once per
architecture (each layer's activation, bias kind and shape, the data's shape and the dtype),
rule, loss and mode; new weight values never recompile. The most recent ``_CACHE_SIZE`` are kept
(each compiled XLA executable holds memory; a long random sweep must not pile them up: see
``_compiled``).
``train`` runs its whole loop (every step, every sample) inside one jitted call.
"""

from __future__ import annotations

import functools
import gc
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jax_impl import activations, losses
from reference import contract
from reference.types import (
    Gradients,
    Intermediates,
    Layer,
    Network,
    RuleUndefined,
    StackedStep,
    zero_sum_rows,
)


# --8<-- [start:dense]
def _dense(activation, a_prev, weights, bias):
    """One layer, a_l = f(a_{l−1} Wᵀ + b), in plain differentiable JAX operations."""
    z = a_prev @ weights.T
    if bias is not None:
        z = z + bias
    return activations.FUNCTIONS[activation](z)
# --8<-- [end:dense]


# --8<-- [start:send_back]
def _send_back(rule: str, index: int, weights, error, delta, grad_w, lr):
    """The cotangent for the layer's input under ``rule``, from the cotangent error = ∂E/∂a_l
    (``delta`` is unused: the chain rule, ``exact``, is autograd's own). It runs inside a trace,
    where no value can be refused: a zero row sum under ``proportional`` is refused before the
    call (``reference/contract.py``) or, reached in training, flagged by ``_zero_sum_row``."""
    if rule == "raw_error":
        return error @ weights
    if rule == "raw_error_new_weights":
        return error @ (weights - lr * grad_w)
    return error @ (weights / weights.sum(axis=-1, keepdims=True))
# --8<-- [end:send_back]


_CACHE_SIZE = 32
_STACKED_CACHE_SIZE = 8


def _compiled(size: int):
    """Cache ``build(key…)``, a jitted function per architecture, for the ``size`` most recent
    keys. JAX keeps every compiled executable in caches of its own as well (about 5 MB per sweep
    architecture), which ours cannot release one by one; so after ``size`` new builds in one cache
    every JAX cache is emptied too, and a long sweep's memory stays bounded. A function still in
    use compiles once more."""

    def decorate(build):
        cached = functools.lru_cache(maxsize=size)(build)
        built = 0

        @functools.wraps(build)
        def lookup(*key):
            nonlocal built
            misses = cached.cache_info().misses
            function = cached(*key)
            if cached.cache_info().misses > misses:
                built += 1
                if built > size:
                    jax.clear_caches()
                    gc.collect()            # traced functions hold reference cycles
                    built = 1
            return function

        lookup.cache_clear = cached.cache_clear
        return lookup

    return decorate


# --8<-- [start:ruled_dense]
@functools.cache
def _ruled_dense(activation: str, rule: str):
    """A dense layer whose VJP sends the rule's error, not the chain rule's, to its input."""

    @jax.custom_vjp
    def dense(a_prev, weights, bias, lr):
        return _dense(activation, a_prev, weights, bias)

    def dense_fwd(a_prev, weights, bias, lr):
        return _dense(activation, a_prev, weights, bias), (a_prev, weights, bias, lr)

    def dense_bwd(saved, grad):
        a_prev, weights, bias, lr = saved
        # Weights and bias: the ordinary VJP, by autograd through the same layer.
        _, vjp = jax.vjp(lambda w, b: _dense(activation, a_prev, w, b), weights, bias)
        grad_w, grad_b = vjp(grad)
        # Input: the rule's error instead of the chain rule (the only change to the graph);
        # the learning rate (used by raw_error_new_weights only) gets no cotangent.
        grad_lr = None if lr is None else jnp.zeros_like(lr)
        # (No layer index: nothing is refused inside a trace, so one function serves them all.)
        grad_in = _send_back(rule, None, weights, grad, None, grad_w, lr)
        return grad_in, grad_w, grad_b, grad_lr

    dense.defvjp(dense_fwd, dense_bwd)
    return dense
# --8<-- [end:ruled_dense]


def _outputs(structure, rule, params, frozen, X, probes=None, lr=None):
    """Activations a_1 … a_L of the graph for ``rule`` (the first layer's input error is unused)."""
    a, outs = X, []
    for index, ((activation, _), (weights, trained), fixed) in enumerate(
            zip(structure, params, frozen)):
        bias = trained if trained is not None else fixed
        if rule == "exact" or index == 0:
            a = _dense(activation, a, weights, bias)
        else:
            a = _ruled_dense(activation, rule)(a, weights, bias, lr)
        if probes is not None:
            a = a + probes[index]
        outs.append(a)
    return outs


def _objective(structure, loss_name, rule):
    """E(params, frozen, X, T) on the graph for ``rule``."""

    def objective(params, frozen, X, T, lr=None):
        outs = _outputs(structure, rule, params, frozen, X, lr=lr)
        return losses.FUNCTIONS[loss_name](outs[-1], T)

    return objective


@_compiled(_CACHE_SIZE)
def _forward_fn(structure, shapes):
    return jax.jit(lambda params, frozen, X: tuple(_outputs(structure, "exact", params, frozen, X)))


@_compiled(_CACHE_SIZE)
def _loss_fn(structure, shapes, loss_name):
    return jax.jit(_objective(structure, loss_name, "exact"))


# --8<-- [start:gradients]
def _gradient(structure, loss_name, rule):
    def objective(params, probes, frozen, X, T, lr):
        outs = _outputs(structure, rule, params, frozen, X, probes, lr)
        return losses.FUNCTIONS[loss_name](outs[-1], T)

    # Gradients with respect to the parameters and to the zero probe on every a_l.
    return jax.grad(objective, argnums=(0, 1))


@_compiled(_CACHE_SIZE)
def _gradients_fn(structure, shapes, loss_name, rule):
    return jax.jit(_gradient(structure, loss_name, rule))
# --8<-- [end:gradients]


def _intermediates(structure, loss_name):
    """z_l and delta_l of every layer, given the errors e_l, and the terms of E."""

    def run(params, frozen, X, T, errors):
        a, zs, deltas = X, [], []
        for (activation, _), (weights, trained), fixed, error in zip(structure, params, frozen,
                                                                      errors):
            bias = trained if trained is not None else fixed
            z = a @ weights.T if bias is None else a @ weights.T + bias
            # delta_l = e_l ⊙ f'(z_l), the slope by autograd: the VJP of the activation at z_l.
            a, vjp = jax.vjp(activations.FUNCTIONS[activation], z)
            zs.append(z)
            deltas.append(vjp(error)[0])
        return tuple(zs), tuple(deltas), losses.TERMS[loss_name](a, T)

    return run


@_compiled(_CACHE_SIZE)
def _intermediates_fn(structure, shapes, loss_name):
    return jax.jit(_intermediates(structure, loss_name))


def _zero_sum_row(params):
    """(layer, neuron) of the top-most zero row sum above the first layer, else (−1, −1)."""
    found = jnp.array([-1, -1])
    for index in range(1, len(params)):
        weights = params[index][0]
        zero = zero_sum_rows(weights, jnp.finfo(weights.dtype).eps)
        here = jnp.array([index, jnp.argmax(zero)])
        found = jnp.where(zero.any(), here, found)
    return found


# --8<-- [start:train]
def _run(structure, loss_name, rule, mode, capacity, spec=None):
    """The whole training run as one function of (params, frozen, X, T, lr, steps), with
    plain gradient descent or the optax transformation of ``spec`` (a reference.Optimizer)."""
    objective = _objective(structure, loss_name, rule)
    full_loss = _objective(structure, loss_name, "exact")

    def run(params, frozen, X, T, lr, steps):
        optimizer = optax.sgd(lr) if spec is None else _optax_optimizer(spec, lr)

        def update(carry, sample):
            # One gradient-descent update on `sample`; remember where `proportional` broke first.
            params, state, broken = carry
            if rule == "proportional":
                broken = jnp.where(broken[0] >= 0, broken, _zero_sum_row(params))
            grads = jax.grad(objective)(params, frozen, *sample, lr)
            updates, state = optimizer.update(grads, state, params)
            return (optax.apply_updates(params, updates), state, broken), None

        def one_step(k, carry):
            # Batch: one update from the whole data set; online: one per sample, in order.
            params, state, broken, losses_after = carry
            if mode == "batch":
                (params, state, broken), _ = update((params, state, broken), (X, T))
            else:
                (params, state, broken), _ = lax.scan(
                    update, (params, state, broken), (X[:, None], T[:, None]))
            losses_after = losses_after.at[k].set(full_loss(params, frozen, X, T))
            return params, state, broken, losses_after

        start = (params, optimizer.init(params), jnp.array([-1, -1]),
                 jnp.zeros(capacity, dtype=X.dtype))
        params, _, broken, losses_after = lax.fori_loop(0, steps, one_step, start)
        return params, losses_after, broken

    return run


@_compiled(_CACHE_SIZE)
def _train_fn(structure, shapes, loss_name, rule, mode, capacity, spec=None):
    return jax.jit(_run(structure, loss_name, rule, mode, capacity, spec))
# --8<-- [end:train]


# optax 0.2.4 and newer can put RMSprop's ε outside the root (torch's form): eps_in_sqrt.
_EPS_OUTSIDE = "eps_in_sqrt" in inspect.signature(optax.scale_by_rms).parameters


# --8<-- [start:optimizers]
def refuse_optimizer(spec) -> str | None:
    """optax computes its own convention, and torch's and Keras's wherever optax's pieces can be
    put together to reproduce them: all but torch's dampening and AMSGrad in torch's and Keras's
    form (the maximum of v, not of the bias-corrected v̂)."""
    if spec.dampening:
        return "optax's trace has no dampening"
    if spec.amsgrad and spec.convention != "optax":
        return (f"{spec.convention}'s AMSGrad keeps the maximum of v, optax's of the "
                "bias-corrected v̂")
    if spec.name == "rmsprop" and not _EPS_OUTSIDE and (spec.convention == "torch"
                                                        or not spec.eps_in_sqrt):
        return (f"optax {optax.__version__} puts RMSprop's ε inside the root only "
                "(eps_in_sqrt came with optax 0.2.4)")
    return None


def _optax_optimizer(spec, lr) -> optax.GradientTransformation:
    """The optax transformation of ``spec``: optax's own for the optax convention, and optax's
    pieces in torch's or Keras's order for theirs. Weight decay is L2 (λp added to the gradient
    first) for torch and optax, decoupled for Keras (λp added to the update before the learning
    rate scales it: p ← p − η(u + λp)), and for AdamW everywhere."""
    decay = spec.weight_decay
    if spec.name == "sgd":
        return optax.chain(*_l2(spec), optax.trace(spec.momentum, spec.nesterov),
                           *_decoupled(spec), optax.scale_by_learning_rate(lr))
    if spec.name in ("adam", "adamw"):
        moments = _moments(spec)
        coupled = spec.name == "adam" and spec.convention != "keras"
        return optax.chain(*(_l2(spec) if coupled else ()), moments,
                           *(() if coupled or not decay else (optax.add_decayed_weights(decay),)),
                           optax.scale_by_learning_rate(lr))
    # RMSprop: ε inside the square root for optax (unless told) and Keras, outside for torch.
    inside = spec.eps_in_sqrt if spec.convention == "optax" else spec.convention == "keras"
    scale = optax.scale_by_stddev if spec.centered else optax.scale_by_rms
    rms = scale(spec.alpha, spec.eps, **({} if inside else {"eps_in_sqrt": False}))
    if spec.convention != "keras":      # optax.rmsprop's order: momentum after the rate
        momentum = (optax.trace(spec.momentum),) if spec.momentum else ()
        return optax.chain(*_l2(spec), rms, optax.scale_by_learning_rate(lr), *momentum)
    return optax.chain(rms, optax.trace(spec.momentum), *_decoupled(spec),
                       optax.scale_by_learning_rate(lr))


def _moments(spec):
    """Adam's m̂ / (√v̂ + ε). Keras adds its ε to √v before the bias correction, which is optax's
    ε divided by √(1 − β2ᵗ) at step t: an ε that changes with the step count."""
    beta1, beta2 = spec.betas
    if spec.amsgrad:
        return optax.scale_by_amsgrad(beta1, beta2, eps=spec.eps)
    if spec.convention != "keras":
        return optax.scale_by_adam(beta1, beta2, eps=spec.eps)
    return optax.inject_hyperparams(optax.scale_by_adam)(   # count = t − 1
        b1=beta1, b2=beta2, eps=lambda count: spec.eps / jnp.sqrt(1 - beta2 ** (count + 1)))


def _l2(spec):
    """g ← g + λp (optax.add_decayed_weights first): torch's and optax's weight decay."""
    return (optax.add_decayed_weights(spec.weight_decay),) if spec.convention != "keras" \
        and spec.weight_decay else ()


def _decoupled(spec):
    """u ← u + λp before the learning rate: Keras's p ← p − ηλp, decoupled from the moments."""
    return (optax.add_decayed_weights(spec.weight_decay),) if spec.convention == "keras" \
        and spec.weight_decay else ()
# --8<-- [end:optimizers]


# A sweep compiles one function per architecture and runs it once, so compiling dominates: these
# XLA options (no backend optimisation, no fusion emitters) compile about 3 times faster and run
# 1.0-2.7 times slower (benchmarks/README.md). They change how the same operations are compiled,
# not which are computed.
_QUICK_COMPILE = {"xla_backend_optimization_level": 0, "xla_cpu_use_fusion_emitters": False}


# --8<-- [start:stacked]
def _stacked(structure, loss_name, rule, mode, spec=None):
    """Loss, gradients, one step (plain or by the optimizer ``spec``) and the loss after it,
    for a stack of networks."""
    gradient = _gradient(structure, loss_name, rule)
    run = _run(structure, loss_name, rule, mode, 1, spec)
    loss = _objective(structure, loss_name, "exact")

    def one_network(params, probes, frozen, X, T, lr):
        # The same gradients as `gradients` and the same one-step run as `step`.
        grads = gradient(params, probes, frozen, X, T, lr)
        after, losses_after, broken = run(params, frozen, X, T, lr, 1)
        return loss(params, frozen, X, T), grads, after, losses_after[0], broken

    # Every network of the stack along the first axis; one learning rate for all of them.
    return jax.vmap(one_network, in_axes=(0, 0, 0, 0, 0, None))


@_compiled(_STACKED_CACHE_SIZE)
def _stacked_fn(structure, shapes, loss_name, rule, mode, spec=None):
    return jax.jit(_stacked(structure, loss_name, rule, mode, spec),
                   compiler_options=_QUICK_COMPILE)
# --8<-- [end:stacked]


def _structure(net: Network):
    """The static part of a network: each layer's activation and bias kind."""
    return tuple(
        (layer.activation,
         "none" if layer.bias is None else "train" if layer.train_bias else "frozen")
        for layer in net
    )


def _shapes(net: Network, X):
    """The rest of the compilation key: layer shapes, number of samples and dtype."""
    return tuple(layer.weights.shape for layer in net), X.shape, str(X.dtype)


def _split(net: Network):
    """(params, frozen) as JAX arrays: what is trained, and the biases held fixed."""
    params = tuple(
        (jnp.asarray(layer.weights),
         jnp.asarray(layer.bias) if layer.bias is not None and layer.train_bias else None)
        for layer in net
    )
    frozen = tuple(
        jnp.asarray(layer.bias) if layer.bias is not None and not layer.train_bias else None
        for layer in net
    )
    return params, frozen


def _network(params, net: Network) -> Network:
    """The trained parameters as a Network's weights and biases (a frozen bias as it was)."""
    return tuple(Layer(w, layer.bias if b is None else b, layer.activation)
                 for (w, b), layer in zip(params, net))


def _as_gradients(grad_params, grad_probes) -> Gradients:
    """The gradients of the parameters, and the errors from those of the probes."""
    return Gradients(
        tuple(gw for gw, _ in grad_params),
        tuple(gb for _, gb in grad_params),
        # Errors in the tutorials' sign: e_l = −∂E/∂a_l (negated in NumPy: an eager JAX
        # operation would compile once for every new shape).
        tuple(-np.asarray(g) for g in grad_probes),
    )


def _refuse_broken(broken) -> None:
    """Raise for the zero row sum a traced run flagged, as (layer, neuron), or (−1, −1)."""
    layer, neuron = (int(v) for v in broken)
    if layer >= 0:
        raise RuleUndefined.zero_sum(layer, neuron)


@contract.forward
def forward(net: Network, X):
    return _forward_fn(_structure(net), _shapes(net, X))(*_split(net), X)


@contract.loss
def loss(net: Network, X, T, loss_name: str):
    return _loss_fn(_structure(net), _shapes(net, X), loss_name)(*_split(net), X, T)


@contract.gradients
def gradients(net: Network, X, T, loss_name: str, rule: str, lr) -> Gradients:
    lr = jnp.asarray(0 if lr is None else lr, dtype=X.dtype)      # traced: no recompile per lr
    probes = tuple(jnp.zeros((X.shape[0], layer.weights.shape[0]), dtype=X.dtype)
                   for layer in net)
    params, frozen = _split(net)
    run = _gradients_fn(_structure(net), _shapes(net, X), loss_name, rule)
    return _as_gradients(*run(params, probes, frozen, X, T, lr))


@functools.partial(contract.train, refuse=refuse_optimizer)
def train(net: Network, X, T, loss_name: str, lr, rule: str, mode: str, steps: int,
          optimizer=None):
    # The loss buffer is padded to a power of two, so step counts share a few compilations.
    capacity = 1 << max(steps - 1, 0).bit_length()
    run = _train_fn(_structure(net), _shapes(net, X), loss_name, rule, mode, capacity,
                    optimizer)
    params, losses_after, broken = run(*_split(net), X, T, jnp.asarray(lr), steps)
    _refuse_broken(broken)
    return _network(params, net), losses_after[:steps]


step = contract.step(train)


@contract.intermediates
def intermediates(net: Network, X, T, loss_name: str, rule: str, lr) -> Intermediates:
    errors = gradients.math(net, X, T, loss_name, rule, lr).errors
    run = _intermediates_fn(_structure(net), _shapes(net, X), loss_name)
    return Intermediates(*run(*_split(net), X, T, errors))


@functools.partial(contract.stacked_step, refuse=refuse_optimizer)
def stacked_step(stack: Network, X, T, loss_name: str, lr, rule: str, mode: str,
                 optimizer=None) -> StackedStep:
    # NumPy zeros, not jnp ones: each new shape of an eager jnp.zeros compiles.
    probes = tuple(np.zeros(X.shape[:2] + layer.weights.shape[1:2], dtype=X.dtype)
                   for layer in stack)
    params, frozen = _split(stack)
    run = _stacked_fn(_structure(stack), _shapes(stack, X), loss_name, rule, mode, optimizer)
    loss_before, (grad_params, grad_probes), after, loss_after, broken = run(
        params, probes, frozen, X, T, lr)
    broken = np.asarray(broken)
    _refuse_broken(broken[np.argmax(broken[:, 0] >= 0)])
    return StackedStep(loss_before, _as_gradients(grad_params, grad_probes),
                       _network(after, stack), loss_after)
