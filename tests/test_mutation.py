"""The mutation tool itself (tools/mutation.py): it finds the code it is meant to mutate, a mutant
changes one expression and nothing else, and every mutant recorded as equivalent still exists and
is explained in docs/testing.md. Running the mutants is ``make mutation``, not part of this file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tools import mutation

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def mutants():
    return mutation.mutants()


def test_every_target_function_is_found_and_mutated(mutants):
    """A renamed or removed target function would silently drop out of the score."""
    for path, names in mutation.TARGETS.items():
        functions = {m.function.split(".")[0] for m in mutants if m.path == path}
        assert functions, f"{path}: no mutants"
        for name in names or ():
            assert name in functions, f"{path}: no mutant in {name} (renamed or removed?)"


def test_keys_are_unique_and_name_file_function_and_change(mutants):
    keys = [m.key for m in mutants]
    assert len(keys) == len(set(keys))
    assert "reference/backprop.py::_backward: -delta.mT → delta.mT" in keys


def test_a_mutant_rewrites_one_expression_and_keeps_the_rest(tmp_path):
    source = ('"""Docstring: «not mutated»."""\n\n\n'
              'def f(z, w):\n'
              '    """z·wᵀ."""\n'
              '    y = z @ w.T  # comment ✓\n'
              '    raise ValueError(f"bad {y + 1}")\n')
    (tmp_path / "m.py").write_text(source)
    found = mutation.mutants(tmp_path, {"m.py": ("f",)})
    assert [m.key for m in found] == [
        "m.py::f: y = z @ w.T → y = z * w.T",
        "m.py::f: y = z @ w.T → y = z @ w",
        'm.py::f: raise ValueError(f"bad {y + 1}") → pass',
    ]
    mutated = found[0].apply(source.encode()).decode()
    assert mutated == source.replace("z @ w.T", "(z * w.T)")
    ast.parse(mutated)


def test_every_equivalent_mutant_exists_and_is_explained_in_the_docs(mutants):
    keys = {m.key for m in mutants}
    page = (ROOT / "docs" / "testing.md").read_text()
    for key, reason in mutation.equivalents().items():
        assert key in keys, (f"tools/mutation_equivalent.toml: no such mutant any more: {key} "
                             "(the code changed: run make mutation and update the list)")
        assert len(reason) > 20, f"{key}: give the reason"
        _, change = key.split("::", 1)[1].split(": ", 1)
        assert f"`{change}`".replace("|", "\\|") in page, \
            f"docs/testing.md: the survivors' table lacks {key}"
