"""An example file's ``[optimizer]``: which optimizer trains the network, in whose convention.

```toml
[optimizer]
name = "adam"              # sgd, adam, adamw or rmsprop (reference/optimizers.py)
convention = "torch"       # torch, optax or keras: the algorithm as that framework documents it
betas = [0.9, 0.999]       # torch.optim's names and defaults for every hyperparameter
eps = 1e-8
```

Without the table the example trains by plain gradient descent, as the tutorials do. Each
optimizer takes only its own hyperparameters (``HYPERPARAMETERS``); the mapping of the names to
each framework's is in ``docs/example-format.md``.
"""

from __future__ import annotations

from crosscheck.examples.fields import Fields, kind
from reference.optimizers import CONVENTIONS, HYPERPARAMETERS, NAMES, Optimizer, check

FLAGS = {"nesterov", "amsgrad", "centered", "eps_in_sqrt"}
# Hyperparameters written at the top of the file instead of under [optimizer].
BELONGS = {key: "optimizer" for keys in HYPERPARAMETERS.values() for key in keys}


def read(fields: Fields, doc) -> Optimizer | None:
    """The ``[optimizer]`` table as an Optimizer, or None when the file has none."""
    if "optimizer" not in doc:
        return None
    table = doc["optimizer"]
    if not isinstance(table, dict):
        fields.fail("optimizer", f"expected a table, got {kind(table)}")
    name = fields.choice(table, "name", NAMES, required=True, where="optimizer.")
    convention = fields.choice(table, "convention", CONVENTIONS, default="torch",
                               where="optimizer.")
    fields.keys(table, "optimizer", {"name", "convention", *HYPERPARAMETERS[name]})
    settings = {key: _value(fields, table[key], f"optimizer.{key}", key)
                for key in HYPERPARAMETERS[name] if key in table}
    try:
        return check(Optimizer(name, convention, **settings))
    except ValueError as exc:
        fields.fail("optimizer", str(exc))


def _value(fields: Fields, value, where: str, key: str):
    """A flag, the two betas, or one number."""
    if key in FLAGS:
        if not isinstance(value, bool):
            fields.fail(where, f"expected true or false, got {kind(value)}")
        return value
    if key == "betas":
        fields.vector(value, where, 2)
        return tuple(fields.number(v, f"{where}[{i}]") for i, v in enumerate(value))
    return fields.number(value, where)
