"""Example files (TOML): the schema, the loader that validates every key, and the shipped examples.

The format is documented in ``docs/example-format.md``. Every problem is one ``ExampleError``
whose text names the file and the key, e.g.
``my.toml: layers[1].weights: expected 2 columns per row to match layers[0] outputs (2), got 3``.
Nothing that fails validation reaches a backend, so a bad file is never a traceback or a NaN.
The parts of a file are read by ``network.py`` (layers, data, names) and ``figures.py``
(``[expected]``, ``[errata]``); ``writer.py`` writes a network back as a file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from crosscheck.examples import figures, network, optimizer, tutorial
from crosscheck.examples.fields import ExampleError, Fields
from crosscheck.examples.figures import Figure
from crosscheck.examples.names import Names
from crosscheck.examples.network import MAX_SAMPLES, MAX_WEIGHTS
from reference.optimizers import Optimizer
from reference.types import LOSSES, MODES, RULES, Layer, loss_form

EXAMPLES_DIR = Path(__file__).parent
MAX_STEPS = 10_000_000

TOP_KEYS = {"name", "title", "source", "loss", "learning_rate", "steps", "mode", "rule",
            "layout", "tutorial", "optimizer", "chaotic_steps", "layers", "data", "expected",
            "errata"}
# How the file writes each layer's weights: (outputs, inputs), as torch.nn.Linear stores them and
# as the project does, or (inputs, outputs), as seed 002 writes x·W.
LAYOUTS = ("outputs-inputs", "inputs-outputs")
SINGLE_LAYERS = re.compile(r"^\s*\[\s*layers\s*\]\s*(#.*)?$", re.MULTILINE)

__all__ = ["EXAMPLES_DIR", "MAX_SAMPLES", "MAX_STEPS", "MAX_WEIGHTS", "Example", "ExampleError",
           "Figure", "Names", "UnknownExample", "find", "load", "shipped"]


class UnknownExample(LookupError):
    """An example name that no shipped file has."""


@dataclass(frozen=True)
class Example:
    """A validated example: the network, the data, the training settings and the figures."""

    path: str
    name: str
    title: str
    source: str
    loss: str
    learning_rate: float
    steps: int
    mode: str
    rule: str
    layout: str              # as the file writes the weights; the layers hold (outputs, inputs)
    layers: tuple[Layer, ...]
    inputs: np.ndarray
    targets: np.ndarray
    names: Names
    figures: tuple[Figure, ...]          # labelled ones first, in the tutorial's order
    tutorial: tutorial.Tutorial = field(default_factory=tutorial.Tutorial)
    # Per rule, the steps over which a chaotic run is stored and compared (``[chaotic_steps]``).
    chaotic_steps: dict[str, int] = field(default_factory=dict)
    optimizer: Optimizer | None = None   # ``[optimizer]``; None: plain gradient descent


def shipped() -> list[Path]:
    """The example files that ship with the project, in name order."""
    return sorted(EXAMPLES_DIR.glob("*.toml"), key=lambda path: path.stem)


def find(name: str) -> Path:
    """The shipped file of an example name; UnknownExample naming the closest if unknown."""
    paths = {path.stem: path for path in shipped()}
    if name in paths:
        return paths[name]
    import difflib

    close = difflib.get_close_matches(name, list(paths), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else f"; known: {', '.join(paths)}"
    raise UnknownExample(f"unknown example {name!r}{hint}")


def load(path: str | Path, layout: str | None = None) -> Example:
    """Read and validate one example file; raise ExampleError naming the file and the key.
    ``layout`` reads the weights in that layout whatever the file says."""
    path = Path(path)
    file = path.name if path.parent == EXAMPLES_DIR else str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExampleError(file, "", f"cannot read the file: {exc.strerror or exc}") from None
    try:
        doc = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ExampleError(file, "", f"not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        if SINGLE_LAYERS.search(raw.decode("utf-8")):
            raise ExampleError(file, "layers", network.SINGLE_BRACKETS) from None
        raise ExampleError(file, "", f"TOML does not parse: {exc}") from None
    except RecursionError:
        raise ExampleError(file, "", "TOML nested too deeply to read") from None
    except ValueError as exc:       # e.g. an integer of thousands of digits
        raise ExampleError(file, "", f"TOML does not parse: {exc}") from None
    return _example(Fields(file), str(path), doc, layout)


def name_of(path: str | Path) -> str:
    """The name of an example file that gives none: its stem, as a name (``My_Net.toml`` →
    ``my-net``)."""
    return re.sub(r"[^a-z0-9]+", "-", Path(path).stem.lower()).strip("-") or "example"


def _example(fields: Fields, path: str, doc: dict, layout: str | None = None) -> Example:
    """The whole file, part by part: settings, data and network, figures."""
    fields.keys(doc, "", TOP_KEYS, belongs=optimizer.BELONGS)
    name = fields.string(doc, "name", default=name_of(path))
    if not re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", name):
        fields.fail("name", f"{name!r}: use lowercase letters, digits and single '-'")
    loss = fields.choice(doc, "loss", LOSSES, required=True)
    if "learning_rate" not in doc:
        fields.fail("learning_rate", "missing (required)")
    lr = fields.number(doc["learning_rate"], "learning_rate")
    if lr <= 0:
        fields.fail("learning_rate", f"must be > 0, got {doc['learning_rate']}")
    steps = fields.count(doc.get("steps", 1), "steps", 1, MAX_STEPS)
    mode = fields.choice(doc, "mode", MODES, default="batch")
    rule = fields.choice(doc, "rule", RULES, default="exact")
    chaotic = _chaotic_steps(fields, doc.get("chaotic_steps", {}))
    cited = tutorial.read(fields, doc)
    layout = layout or fields.choice(doc, "layout", LAYOUTS, default=LAYOUTS[0])
    transposed = layout == LAYOUTS[1]
    inputs = network.inputs(fields, doc)
    net, names = network.layers(fields, doc, inputs.shape[1], inputs.shape[0], transposed)
    try:
        loss_form(loss, net[-1].activation)
    except ValueError as exc:
        fields.fail(f"layers[{len(net) - 1}].activation", str(exc))
    targets = network.targets(fields, doc, inputs.shape[0], net, loss)
    return Example(
        path=path, name=name, title=fields.string(doc, "title"),
        source=fields.string(doc, "source"), loss=loss, learning_rate=lr, steps=steps,
        mode=mode, rule=rule, layout=layout, layers=net, inputs=inputs, targets=targets,
        names=names,
        figures=tutorial.apply(fields, cited, figures.read(fields, doc, net, names, transposed)),
        tutorial=cited, chaotic_steps=chaotic, optimizer=optimizer.read(fields, doc))


def _chaotic_steps(fields: Fields, table) -> dict[str, int]:
    """``[chaotic_steps]``: rule = the number of steps its run is compared over."""
    fields.keys(table, "chaotic_steps", RULES)
    return {rule: fields.count(value, f"chaotic_steps.{rule}", 1, MAX_STEPS)
            for rule, value in table.items()}
