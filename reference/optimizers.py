"""The frameworks' optimizers, written by hand: SGD with momentum, Adam, AdamW and RMSprop, each
as PyTorch (``torch.optim``), optax and Keras document it.

"The same" optimizer differs between frameworks in small ways that show in the numbers: where ε
sits in Adam's and RMSprop's denominators, whether weight decay is added to the gradient (L2) or
applied to the weights (decoupled), how momentum scales with the learning rate, which second
moment AMSGrad keeps the maximum of. ``Optimizer(name, convention, ...)`` names one of them with
torch.optim's hyperparameter names and defaults; ``update`` makes one step of it by the formulas
of that convention's documentation, written once as each function's docstring.

State is explicit: for every parameter, a dict with the step count ``t`` (1 at the first update)
and the optimizer's buffers (``b`` momentum, ``m`` and ``v`` the first and second moments,
``v_max`` AMSGrad's maximum, ``g_avg`` centered RMSprop's mean gradient), made by ``start`` and
kept across updates (and across the samples of an online step, as the frameworks keep it).
g is ∂E/∂p, η the learning rate, λ the weight decay, μ the momentum.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np

NAMES = ("sgd", "adam", "adamw", "rmsprop")
CONVENTIONS = ("torch", "optax", "keras")
# The hyperparameters each optimizer takes (torch.optim's names), besides its name.
HYPERPARAMETERS = {
    "sgd": ("momentum", "dampening", "nesterov", "weight_decay"),
    "adam": ("betas", "eps", "weight_decay", "amsgrad"),
    "adamw": ("betas", "eps", "weight_decay", "amsgrad"),
    "rmsprop": ("alpha", "eps", "momentum", "centered", "weight_decay", "eps_in_sqrt"),
}


@dataclass(frozen=True)
class Optimizer:
    """One optimizer in one framework's convention; torch.optim's names and defaults.

    ``weight_decay`` defaults to 0.01 for ``adamw`` (torch's AdamW) and 0 otherwise.
    ``eps_in_sqrt`` is optax's option of ``rmsprop`` (ε inside the square root, its default);
    torch puts ε outside and Keras inside, always.
    """

    name: str = "sgd"
    convention: str = "torch"
    momentum: float = 0.0
    dampening: float = 0.0
    nesterov: bool = False
    weight_decay: float | None = None
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    amsgrad: bool = False
    alpha: float = 0.99
    centered: bool = False
    eps_in_sqrt: bool = True

    def __post_init__(self):
        if self.weight_decay is None:
            object.__setattr__(self, "weight_decay", 0.01 if self.name == "adamw" else 0.0)
        object.__setattr__(self, "betas", tuple(self.betas))

    def settings(self) -> dict:
        """The hyperparameters that differ from their defaults, by name."""
        default = Optimizer(self.name, self.convention)
        return {f.name: getattr(self, f.name) for f in fields(self)[2:]
                if getattr(self, f.name) != getattr(default, f.name)}

    def __str__(self) -> str:
        words = ", ".join(f"{key}={value}" for key, value in self.settings().items())
        return f"{self.name} ({self.convention}{', ' + words if words else ''})"

    def under(self, convention: str) -> Optimizer:
        return replace(self, convention=convention)


def check(optimizer: Optimizer) -> Optimizer:
    """The optimizer if it is well formed, else ``ValueError`` saying what is not."""
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"optimizer must be a reference.Optimizer, not {optimizer!r}")
    o = optimizer
    if o.name not in NAMES:
        raise ValueError(f"unknown optimizer {o.name!r}: expected one of {', '.join(NAMES)}")
    if o.convention not in CONVENTIONS:
        raise ValueError(f"unknown convention {o.convention!r}: expected one of "
                         f"{', '.join(CONVENTIONS)}")
    if len(o.betas) != 2:
        raise ValueError(f"optimizer betas must be two numbers, not {o.betas}")
    numbers = {"momentum": o.momentum, "dampening": o.dampening, "weight_decay": o.weight_decay,
               "eps": o.eps, "alpha": o.alpha, "betas": o.betas[0], "betas ": o.betas[1]}
    for key, value in numbers.items():
        if not (np.isfinite(value) and 0 <= value):
            raise ValueError(f"optimizer {key.strip()} must be a finite number >= 0, not {value}")
    if max(o.betas) >= 1 or o.alpha >= 1 or o.momentum >= 1 \
            or o.dampening > 1:
        raise ValueError("optimizer betas, alpha and momentum must be below 1, dampening at most 1")
    foreign = [key for key in o.settings() if key not in HYPERPARAMETERS[o.name]]
    if foreign:
        raise ValueError(f"{o.name} takes no {foreign[0]}: its settings are "
                         f"{', '.join(HYPERPARAMETERS[o.name])}")
    if o.nesterov and (o.name != "sgd" or o.momentum == 0 or o.dampening != 0):
        raise ValueError("nesterov needs sgd with momentum > 0 and dampening = 0 (as torch.optim)")
    if o.dampening and o.convention != "torch":
        raise ValueError(f"dampening is torch's alone: {o.convention} has no such setting")
    if not o.eps_in_sqrt and (o.name != "rmsprop" or o.convention != "optax"):
        raise ValueError("eps_in_sqrt = false is optax's rmsprop option alone")
    return o


def start(parameter) -> dict:
    """Fresh state for one parameter: t = 0 and buffers of zeros of its shape and dtype."""
    return {"t": 0, **{key: np.zeros_like(parameter) for key in ("b", "m", "v", "v_max", "g_avg")}}


def update(o: Optimizer, state: dict, p, g, lr):
    """The parameter ``p`` after one update from its gradient ``g``; ``state`` moves on too."""
    state["t"] += 1
    return UPDATES[o.name, o.convention](o, state, p, g, lr)


# --8<-- [start:sgd]
def _sgd_torch(o, s, p, g, lr):
    """torch.optim.SGD: g ← g + λp;  b ← g at t = 1, else μb + (1 − τ)g;
    g ← g + μb (Nesterov) or b;  p ← p − ηg."""
    g = g + o.weight_decay * p
    if o.momentum:
        s["b"] = g if s["t"] == 1 else o.momentum * s["b"] + (1 - o.dampening) * g
        g = g + o.momentum * s["b"] if o.nesterov else s["b"]
    return p - lr * g


def _sgd_optax(o, s, p, g, lr):
    """optax.sgd (optax.trace, then the learning rate), after optax.add_decayed_weights(λ):
    g ← g + λp;  b ← g + μb (b = 0 before the first update);  u = g + μb (Nesterov) or b;
    p ← p − ηu."""
    g = g + o.weight_decay * p
    s["b"] = g + o.momentum * s["b"]
    return p - lr * (g + o.momentum * s["b"] if o.nesterov else s["b"])


def _sgd_keras(o, s, p, g, lr):
    """keras.optimizers.SGD (Sutskever's form), its weight decay decoupled and applied first:
    p ← p − ηλp;  v ← μv − ηg;  p ← p + μv − ηg (Nesterov) or p + v."""
    p = p - lr * o.weight_decay * p
    s["b"] = o.momentum * s["b"] - lr * g
    return p + o.momentum * s["b"] - lr * g if o.nesterov else p + s["b"]
# --8<-- [end:sgd]


# --8<-- [start:adam]
def _moments(o, s, g):
    """m ← β1 m + (1 − β1) g;  v ← β2 v + (1 − β2) g²."""
    beta1, beta2 = o.betas
    s["m"] = beta1 * s["m"] + (1 - beta1) * g
    s["v"] = beta2 * s["v"] + (1 - beta2) * g * g


def _adam_torch(o, s, p, g, lr):
    """torch.optim.Adam / AdamW: Adam g ← g + λp, AdamW p ← p − ηλp;  the moments;
    AMSGrad v_max ← max(v_max, v);  p ← p − η m̂ / (√v̂ + ε), with m̂ = m / (1 − β1ᵗ) and
    v̂ = (v_max or v) / (1 − β2ᵗ)."""
    if o.name == "adamw":
        p = p - lr * o.weight_decay * p
    else:
        g = g + o.weight_decay * p
    _moments(o, s, g)
    if o.amsgrad:
        s["v_max"] = np.maximum(s["v_max"], s["v"])
    m_hat = s["m"] / (1 - o.betas[0] ** s["t"])
    v_hat = (s["v_max"] if o.amsgrad else s["v"]) / (1 - o.betas[1] ** s["t"])
    return p - lr * m_hat / (np.sqrt(v_hat) + o.eps)


def _adam_optax(o, s, p, g, lr):
    """optax.adam / optax.adamw (optax.adam after optax.add_decayed_weights(λ) for Adam's L2):
    Adam g ← g + λp;  the moments;  u = m̂ / (√v̂ + ε), AMSGrad (optax.amsgrad) with
    v̂ ← max(v̂_max, v̂) of the *bias-corrected* moment;  AdamW u ← u + λp;  p ← p − ηu."""
    if o.name == "adam":
        g = g + o.weight_decay * p
    _moments(o, s, g)
    m_hat = s["m"] / (1 - o.betas[0] ** s["t"])
    v_hat = s["v"] / (1 - o.betas[1] ** s["t"])
    if o.amsgrad:
        s["v_max"] = v_hat = np.maximum(s["v_max"], v_hat)
    u = m_hat / (np.sqrt(v_hat) + o.eps)
    return p - lr * (u + o.weight_decay * p if o.name == "adamw" else u)


def _adam_keras(o, s, p, g, lr):
    """keras.optimizers.Adam / AdamW, weight decay decoupled for both: p ← p − ηλp;
    the moments;  AMSGrad v ← max(v_max, v);  α = η √(1 − β2ᵗ) / (1 − β1ᵗ);
    p ← p − α m / (√v + ε): ε meets √v before the bias correction (the paper's "ε̂"), which
    is torch's update with ε / √(1 − β2ᵗ) in place of ε."""
    p = p - lr * o.weight_decay * p
    _moments(o, s, g)
    v = s["v"]
    if o.amsgrad:
        s["v_max"] = v = np.maximum(s["v_max"], v)
    alpha = lr * np.sqrt(1 - o.betas[1] ** s["t"]) / (1 - o.betas[0] ** s["t"])
    return p - alpha * s["m"] / (np.sqrt(v) + o.eps)
# --8<-- [end:adam]


# --8<-- [start:rmsprop]
def _mean_square(o, s, g):
    """v ← αv + (1 − α)g²; centered: ḡ ← αḡ + (1 − α)g and v − ḡ² instead of v."""
    s["v"] = o.alpha * s["v"] + (1 - o.alpha) * g * g
    if not o.centered:
        return s["v"]
    s["g_avg"] = o.alpha * s["g_avg"] + (1 - o.alpha) * g
    return s["v"] - s["g_avg"] * s["g_avg"]


def _rmsprop_torch(o, s, p, g, lr):
    """torch.optim.RMSprop: g ← g + λp;  u = g / (√v + ε);  momentum b ← μb + u, u = b;
    p ← p − ηu."""
    g = g + o.weight_decay * p
    u = g / (np.sqrt(_mean_square(o, s, g)) + o.eps)
    if o.momentum:
        s["b"] = u = o.momentum * s["b"] + u
    return p - lr * u


def _rmsprop_optax(o, s, p, g, lr):
    """optax.rmsprop after optax.add_decayed_weights(λ): g ← g + λp;
    u = η g / √(v + ε) (eps_in_sqrt, the default) or η g / (√v + ε);
    momentum (optax.trace after the learning rate) b ← μb + u, u = b;  p ← p − u."""
    g = g + o.weight_decay * p
    v = _mean_square(o, s, g)
    u = lr * g / (np.sqrt(v + o.eps) if o.eps_in_sqrt else np.sqrt(v) + o.eps)
    if o.momentum:
        s["b"] = u = o.momentum * s["b"] + u
    return p - u


def _rmsprop_keras(o, s, p, g, lr):
    """keras.optimizers.RMSprop (``rho`` is torch's α): p ← p − ηλp;  u = η g / √(v + ε);
    momentum b ← μb + u, u = b;  p ← p − u."""
    p = p - lr * o.weight_decay * p
    u = lr * g / np.sqrt(_mean_square(o, s, g) + o.eps)
    if o.momentum:
        s["b"] = u = o.momentum * s["b"] + u
    return p - u
# --8<-- [end:rmsprop]


UPDATES = {
    ("sgd", "torch"): _sgd_torch, ("sgd", "optax"): _sgd_optax, ("sgd", "keras"): _sgd_keras,
    **{(name, convention): function for name in ("adam", "adamw") for convention, function in
       (("torch", _adam_torch), ("optax", _adam_optax), ("keras", _adam_keras))},
    ("rmsprop", "torch"): _rmsprop_torch, ("rmsprop", "optax"): _rmsprop_optax,
    ("rmsprop", "keras"): _rmsprop_keras,
}
