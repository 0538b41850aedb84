"""The side-by-side scripts in docs/side_by_side/ run on their own and print the right figures.

Each script is run once, as a reader would run it (``python docs/side_by_side/seed002_torch.py``),
and its ``name = value`` lines are checked against expectations that do not come from the scripts:
seed 002's printed figures (the example file) and the arithmetic worked exactly, and for seed 000
the NumPy reference and the targets. Test ids name the script.
"""

from __future__ import annotations

import ast
import importlib.util
import itertools
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest

import reference as R
from crosscheck import examples
from crosscheck.compare.published import rounds_to

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "side_by_side"
SEED002 = ["seed002_numpy", "seed002_torch", "seed002_jax"]
SEED000 = ["seed000_numpy", "seed000_torch", "seed000_jax"]
SEED001 = ["seed001_numpy", "seed001_torch", "seed001_jax"]
FRAMEWORKS = {"numpy": ["numpy"], "torch": ["torch"], "jax": ["jax", "optax"]}
MAX_LINES = 45
PROJECT = {"reference", "torch_impl", "jax_impl", "crosscheck", "tests"}
ALLOWED = {"numpy", "torch", "jax", "optax"}

# Each figure of seed002-linear.toml and the name the scripts print it under.
WEIGHTS = ["w1", "w2", "w3", "w4", "w5", "w6"]
SEED002_NAMES = {
    "activations_before.0[0][0]": "h1", "activations_before.0[0][1]": "h2",
    "outputs_before[0][0]": "prediction", "output_gradient[0][0]": "delta",
    **{f"updates.{w}": f"update_{w}" for w in WEIGHTS},
    **{f"params_after.{w}": w for w in WEIGHTS},
    "activations_after.0[0][0]": "h1_after", "activations_after.0[0][1]": "h2_after",
    "outputs_after[0][0]": "prediction_after",
}
# Seed 001: per example file, its figure keys and the names the scripts print them under.
SEED001_RULES = {"seed001-proportional": "proportional", "seed001-raw-error": "raw",
                 "seed001-exact": "exact"}
SEED001_NAMES = ["o1", "e1", "grad_b1", *(f"grad_w{i}1" for i in range(1, 5)),
                 *(f"{rule}_h{i}" for rule in SEED001_RULES.values() for i in range(1, 5))]
SEED000_NAMES = ["loss_before", "loss_after",
                 *(f"out_s{s}_o{o}" for s in range(4) for o in (1, 2))]


def framework_modules(script: str) -> list[str]:
    return FRAMEWORKS[script.rsplit("_", 1)[1]]


def needs(*scripts: str) -> None:
    """Skip, with the reason, when a script's framework is not installed."""
    for script in scripts:
        for module in framework_modules(script):
            pytest.importorskip(module, reason=f"{script}.py needs {module}, not installed")


def run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(FOLDER / f"{script}.py")],
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def ran() -> dict[str, subprocess.CompletedProcess]:
    """Every script whose framework is installed, run once, several at a time."""
    runnable = [s for s in SEED002 + SEED000 + SEED001
                if all(importlib.util.find_spec(m) for m in framework_modules(s))]
    with ThreadPoolExecutor() as pool:
        return dict(zip(runnable, pool.map(run, runnable)))


def figures(ran, script: str, names) -> dict[str, float]:
    """The script's ``name = value`` lines; it must exit 0 and print exactly ``names``."""
    done = ran[script]
    if done.returncode != 0:
        pytest.fail(f"{script}.py exited with {done.returncode}:\n{done.stderr[-3000:]}",
                    pytrace=False)
    printed = {}
    for line in done.stdout.splitlines():
        match = re.fullmatch(r"(\w+) = (\S+)", line)
        if not match or match[1] in printed:
            pytest.fail(f"{script}.py printed {line!r}: not `name = value`, or a name twice",
                        pytrace=False)
        printed[match[1]] = float(match[2])
    missing, extra = set(names) - printed.keys(), printed.keys() - set(names)
    if missing or extra:
        pytest.fail(f"{script}.py: missing {sorted(missing)}, unexpected {sorted(extra)}",
                    pytrace=False)
    return printed


def fail_if(bad: list[str], header: str) -> None:
    """Fail with one line per wrong figure (and no traceback: the lines say it all)."""
    if bad:
        pytest.fail("\n".join([header, *(f"  {line}" for line in bad)]), pytrace=False)


def relative(a: float, b: float) -> float:
    return 0.0 if a == b else abs(a - b) / max(abs(a), abs(b))


def assert_agree(ran, first: str, second: str, names, rtol: float) -> None:
    one, two = figures(ran, first, names), figures(ran, second, names)
    bad = [f"{name}: {first} = {one[name]!r}, {second} = {two[name]!r}, relative difference "
           f"{relative(one[name], two[name]):.3g}"
           for name in names if not relative(one[name], two[name]) <= rtol]
    fail_if(bad, f"{first}.py and {second}.py disagree ({rtol:g} relative):")


# Every script: short, and standalone.

@pytest.mark.parametrize("script", SEED002 + SEED000 + SEED001)
def test_script_is_short_and_imports_only_frameworks(script):
    path = FOLDER / f"{script}.py"
    source = path.read_text()
    # The lines a reader sees (the docs' snippet markers, "# --8<-- [start:…]", are dropped).
    lines = sum("--8<--" not in line for line in source.splitlines())
    assert lines <= MAX_LINES, f"{path.name} has {lines} lines; a side-by-side script keeps to "\
                               f"{MAX_LINES}"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = ["." * node.level + (node.module or "")]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            assert top not in PROJECT and (top in ALLOWED or top in sys.stdlib_module_names), (
                f"{path.name} line {node.lineno}: imports {module}; a side-by-side script "
                f"imports only {', '.join(sorted(ALLOWED))} and the standard library")


# Seed 002: the tutorial's printed figures, the exact arithmetic, and each other.

@pytest.mark.parametrize("script", SEED002)
def test_seed002_prints_the_tutorials_figures(ran, script):
    needs(script)
    printed = figures(ran, script, SEED002_NAMES.values())
    example = examples.load(examples.find("seed002-linear"))
    bad = []
    for figure in example.figures:
        assert figure.key in SEED002_NAMES, f"no printed name for the figure {figure.key}"
        name = SEED002_NAMES[figure.key]
        if rounds_to(printed[name], figure.printed) is figure.erratum:
            bad.append(
                f"{name} = {printed[name]!r} ({figure.key}): " + (
                    f"rounds to the erratum {figure.printed}, but the printed figure is wrong"
                    if figure.erratum else f"does not round to the printed {figure.printed}"))
    fail_if(bad, f"{script}.py against the figures seed 002 prints:")


def seed002_by_hand() -> dict[str, Decimal]:
    """Seed 002's step worked in exact decimal arithmetic, the tutorial's formulas."""
    w = dict(zip(WEIGHTS, map(Decimal, ["0.12", "0.33", "0.15", "0.09", "0.11", "0.12"])))
    i1, i2, actual, a = Decimal(2), Decimal(3), Decimal(1), Decimal("0.05")
    h1, h2 = i1 * w["w1"] + i2 * w["w2"], i1 * w["w3"] + i2 * w["w4"]
    prediction = h1 * w["w5"] + h2 * w["w6"]
    delta = prediction - actual
    update = {"w1": a * delta * w["w5"] * i1, "w2": a * delta * w["w5"] * i2,
              "w3": a * delta * w["w6"] * i1, "w4": a * delta * w["w6"] * i2,
              "w5": a * delta * h1, "w6": a * delta * h2}
    new = {k: w[k] - update[k] for k in WEIGHTS}
    h1_after, h2_after = i1 * new["w1"] + i2 * new["w2"], i1 * new["w3"] + i2 * new["w4"]
    return {"h1": h1, "h2": h2, "prediction": prediction, "delta": delta,
            **{f"update_{k}": v for k, v in update.items()}, **new,
            "h1_after": h1_after, "h2_after": h2_after,
            "prediction_after": h1_after * new["w5"] + h2_after * new["w6"]}


@pytest.mark.parametrize("script", SEED002)
def test_seed002_matches_the_arithmetic_worked_exactly(ran, script):
    needs(script)
    printed = figures(ran, script, SEED002_NAMES.values())
    bad = [f"{name} = {printed[name]!r}, exactly {exact}"
           for name, exact in seed002_by_hand().items()
           if not relative(printed[name], float(exact)) <= 1e-12]
    fail_if(bad, f"{script}.py against the arithmetic worked exactly (1e-12 relative):")


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(SEED002, 2)),
                         ids=lambda s: s)
def test_seed002_scripts_agree(ran, first, second):
    needs(first, second)
    assert_agree(ran, first, second, SEED002_NAMES.values(), 1e-12)


# Seed 000: the NumPy reference, the targets, and each other.

@pytest.fixture(scope="module")
def seed000():
    """(example, loss before, loss after, outputs after) by the NumPy reference."""
    ex = examples.load(examples.find("seed000"))
    net, losses = R.train(ex.layers, ex.inputs, ex.targets, "half_sse", 0.5, "raw_error",
                          "online", 1000)
    return (ex, R.loss(ex.layers, ex.inputs, ex.targets, "half_sse"), losses[-1],
            R.forward(net, ex.inputs)[-1])


@pytest.mark.parametrize("script", SEED000)
def test_seed000_matches_the_reference(ran, seed000, script):
    needs(script)
    printed = figures(ran, script, SEED000_NAMES)
    _, before, after, outputs = seed000
    expected = {"loss_before": float(before), "loss_after": float(after),
                **{f"out_s{s}_o{o + 1}": float(v) for (s, o), v in zip(
                    itertools.product(range(4), range(2)), outputs.ravel())}}
    bad = [f"{name} = {printed[name]!r}, reference {value!r}, relative difference "
           f"{relative(printed[name], value):.3g}"
           for name, value in expected.items() if not relative(printed[name], value) <= 1e-9]
    fail_if(bad, f"{script}.py against the NumPy reference (1e-9 relative):")


@pytest.mark.parametrize("script", SEED000)
def test_seed000_outputs_reach_the_targets(ran, seed000, script):
    needs(script)
    printed = figures(ran, script, SEED000_NAMES)
    targets = seed000[0].targets
    bad = [f"out_s{s}_o{o + 1} = {printed[f'out_s{s}_o{o + 1}']!r}, target {targets[s, o]}"
           for s, o in itertools.product(range(4), range(2))
           if not abs(printed[f"out_s{s}_o{o + 1}"] - targets[s, o]) <= 0.05]
    fail_if(bad, f"{script}.py: after 1,000 passes, not within 0.05:")


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(SEED000, 2)),
                         ids=lambda s: s)
def test_seed000_scripts_agree(ran, first, second):
    needs(first, second)
    assert_agree(ran, first, second, SEED000_NAMES, 1e-9)


# Seed 001: the figures of its three example files, the NumPy reference, and each other.

@pytest.mark.parametrize("script", SEED001)
def test_seed001_prints_the_figures_of_its_example_files(ran, script):
    """o1 = 0.92, e1 = 0.08, the hidden errors of each rule (0.037 for w11's share), and the
    output bias gradient, as the example files print them."""
    needs(script)
    printed = figures(ran, script, SEED001_NAMES)
    bad = []
    for name, rule in SEED001_RULES.items():
        for figure in examples.load(examples.find(name)).figures:
            key = figure.quantity.key
            mine = {"outputs_before": "o1", "gradients": "grad_b1"}.get(key) or (
                "e1" if figure.place.layer == 1 else f"{rule}_h{figure.place.index[1] + 1}")
            if not rounds_to(printed[mine], figure.printed):
                bad.append(f"{mine} = {printed[mine]!r}: {name} prints {figure.key} = "
                           f"{figure.printed}")
    fail_if(bad, f"{script}.py against seed 001's figures:")


@pytest.mark.parametrize("script", SEED001)
def test_seed001_matches_the_reference(ran, script):
    """Every rule's hidden errors and the exact gradient against the NumPy reference."""
    needs(script)
    printed = figures(ran, script, SEED001_NAMES)
    ex = examples.load(examples.find("seed001-exact"))
    expected = {}
    for rule, short in (("proportional", "proportional"), ("raw_error", "raw"),
                        ("exact", "exact")):
        grads = R.gradients(ex.layers, ex.inputs, ex.targets, "half_sse", rule)
        expected.update({f"{short}_h{i + 1}": v for i, v in enumerate(grads.errors[0][0])})
    grads = R.gradients(ex.layers, ex.inputs, ex.targets, "half_sse")
    expected.update({f"grad_w{i + 1}1": v for i, v in enumerate(grads.weights[1][0])})
    expected["grad_b1"] = grads.biases[1][0]
    bad = [f"{name} = {printed[name]!r}, reference {float(value)!r}"
           for name, value in expected.items() if not relative(printed[name], value) <= 1e-12]
    fail_if(bad, f"{script}.py against the NumPy reference (1e-12 relative):")


@pytest.mark.parametrize(("first", "second"), list(itertools.combinations(SEED001, 2)),
                         ids=lambda s: s)
def test_seed001_scripts_agree(ran, first, second):
    needs(first, second)
    assert_agree(ran, first, second, SEED001_NAMES, 1e-12)
