"""Small, readable facts a learner needs when mapping the hand-written math onto the frameworks.

Each test states one fact and checks it against the NumPy reference or plain arithmetic.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from fractions import Fraction

import numpy as np
import pytest

from reference import losses

rng = np.random.default_rng(2024)
OUTPUTS, TARGETS = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="PyTorch is not installed")


@pytest.fixture(scope="module")
def jax():
    pytest.importorskip("jax", reason="JAX is not installed")
    import jax

    import jax_impl  # noqa: F401  (enables x64, as every comparison in the project assumes)

    return jax


def test_half_mse_sum_is_half_sse_and_default_mse_is_the_mean(torch):
    a, t = torch.tensor(OUTPUTS), torch.tensor(TARGETS)
    half_sse = 0.5 * torch.nn.MSELoss(reduction="sum")(a, t)
    mse = torch.nn.MSELoss()(a, t)
    assert half_sse.item() == pytest.approx(losses.half_sse(OUTPUTS, TARGETS), rel=1e-15)
    assert mse.item() == pytest.approx(losses.mse(OUTPUTS, TARGETS), rel=1e-15)
    # …and the factor between them is the number of elements over two: 12 / 2 = 6.
    assert half_sse.item() == pytest.approx(6 * mse.item(), rel=1e-15)


def exactly_rounded(w, lr, g):
    """W − lr·g computed exactly (fractions) and rounded once to float64."""
    return np.array([float(Fraction(a) - Fraction(lr) * Fraction(b))
                     for a, b in zip(w.ravel(), g.ravel())]).reshape(w.shape)


def test_torch_sgd_step_is_w_minus_lr_times_gradient_rounded_once(torch):
    """SGD without momentum is p ← p − lr·g. PyTorch computes it as one fused multiply-add, so
    the result is W − lr·g rounded once; NumPy's `w - lr * g` rounds twice and differs from it
    in the last bit for a few entries in a hundred (1 ulp, about 1e-17 here)."""
    w0, g = rng.normal(size=(10, 10)), rng.normal(size=(10, 10))
    w = torch.tensor(w0, requires_grad=True)
    w.grad = torch.tensor(g)
    torch.optim.SGD([w], lr=0.05).step()
    stepped = w.detach().numpy()
    np.testing.assert_array_equal(stepped, exactly_rounded(w0, 0.05, g))
    np.testing.assert_array_max_ulp(stepped, w0 - 0.05 * g, maxulp=1)


def test_optax_sgd_step_is_w_minus_lr_times_gradient(jax):
    """optax.sgd(lr) turns g into the update −lr·g; apply_updates adds it: bit for bit NumPy's
    `w - lr * g` (two roundings)."""
    import optax

    w0 = rng.normal(size=(10, 10))
    g = jax.grad(lambda w: jax.numpy.sum(jax.numpy.sin(w)))(w0)
    optimizer = optax.sgd(0.05)
    updates, _ = optimizer.update(g, optimizer.init(w0))
    np.testing.assert_array_equal(np.asarray(optax.apply_updates(w0, updates)),
                                  w0 - 0.05 * np.asarray(g))
    np.testing.assert_allclose(np.asarray(g), np.cos(w0), rtol=1e-15)   # d sin = cos


def test_backward_twice_without_zero_grad_doubles_the_gradient(torch):
    w = torch.tensor(rng.normal(size=3), requires_grad=True)
    x = torch.tensor(rng.normal(size=3))
    (w @ x).backward()
    once = w.grad.clone()
    (w @ x).backward()                # the gradient accumulates into .grad
    assert torch.equal(w.grad, 2 * once)
    assert torch.equal(once, x)       # ∂(w·x)/∂w = x
    w.grad = None                     # what optimizer.zero_grad() does
    (w @ x).backward()
    assert torch.equal(w.grad, once)


def test_jax_grad_of_float32_is_float32_unless_x64_is_on():
    """Without x64, JAX turns even float64 NumPy input into float32; jax_impl enables x64, and
    then float64 stays float64 while float32 input still gives a float32 gradient."""
    code = textwrap.dedent("""
        import numpy as np, jax, jax.numpy as jnp
        f = lambda w: jnp.sum(w ** 2)
        x = np.ones(3)
        before = (jax.grad(f)(x).dtype, jax.grad(f)(x.astype(np.float32)).dtype)
        import jax_impl
        after = (jax.grad(f)(x).dtype, jax.grad(f)(x.astype(np.float32)).dtype)
        print(before, after)
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if "No module named 'jax'" in done.stderr:
        pytest.skip("JAX is not installed")
    assert done.returncode == 0, done.stderr
    # "[UserWarning ...]" lines may precede; the answer is the last line.
    assert done.stdout.strip().splitlines()[-1] == \
        "(dtype('float32'), dtype('float32')) (dtype('float64'), dtype('float32'))"
