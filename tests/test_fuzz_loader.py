"""Fuzzing the example loader: whatever the bytes, one line naming the key and exit 2, or a valid
example; never a traceback.

Hypothesis builds documents from a valid example by replacing, deleting or adding values at
random places (wrong types, NaN and infinities, huge and negative numbers, empty and very long
strings, deep nesting), and also throws raw bytes at the loader. Each document goes through the
CLI's own entry point, as `crosscheck check FILE` would run it.
"""

from __future__ import annotations

import copy
import math
import tomllib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crosscheck import cli, examples

BASE = tomllib.loads((examples.EXAMPLES_DIR / "seed002-linear.toml").read_text())
TRIED = {"documents": 0}


@pytest.fixture(scope="module", autouse=True)
def report_how_many_documents_were_tried():
    """After this file's tests: how many documents the fuzzing tried (shown with -s)."""
    yield
    print(f"\nfuzzed {TRIED['documents']} example documents")

ODD = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=50),
    st.text(min_size=5000, max_size=6000).map(lambda s: s or "x" * 5000),
    st.lists(st.integers(-3, 3), max_size=4), st.lists(st.lists(st.floats(), max_size=3),
                                                       max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.recursive(st.integers(), lambda inner: st.lists(inner, min_size=1, max_size=2),
                 max_leaves=40),
)


def places(doc, prefix=()):
    """Every (path) in a parsed document: table keys and list indices."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from places(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from places(value, (*prefix, i))


PLACES = [p for p in places(BASE) if p]


def dumps(value) -> str:
    """A minimal TOML writer for what the fuzzer produces (inline tables and arrays); TOML has
    no null, so None is dropped from tables and written as "" in arrays."""
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") \
            if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(dumps(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{dumps(str(k))} = {dumps(v)}" for k, v in value.items()
                               if v is not None) + "}"
    raise TypeError(value)


def document(doc) -> str:
    return "\n".join(f"{dumps(str(k))} = {dumps(v)}" for k, v in doc.items() if v is not None)


def check_one_line_or_ok(tmp_path, capsys, text=None, raw=None):
    path = tmp_path / "fuzz.toml"
    if raw is not None:
        path.write_bytes(raw)
    else:
        path.write_text(text)
    TRIED["documents"] += 1
    code = cli.main(["check", str(path), "--backends", "numpy"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err + out
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"{path}"), err
    else:
        assert code in (0, 1) and err == "", (code, err)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_documents(tmp_path, capsys, data):
    doc = copy.deepcopy(BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(PLACES))
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            action = data.draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif action == "add" and isinstance(parent, dict):
                parent[data.draw(st.text(min_size=1, max_size=8))] = data.draw(ODD)
            else:
                parent[path[-1]] = data.draw(ODD)
        except (KeyError, IndexError, TypeError):
            continue
    check_one_line_or_ok(tmp_path, capsys, text=document(doc))


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(st.binary(max_size=300),
                     st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
                     st.just(b"\xff\xfe" + "name = 1".encode("utf-16"))))
def test_raw_bytes(tmp_path, capsys, raw):
    check_one_line_or_ok(tmp_path, capsys, raw=raw)


def test_absurd_sizes_are_refused_before_any_array_is_made(tmp_path, capsys):
    """More than 10⁶ samples or 10⁷ weights: refused from the raw lists, before NumPy."""
    rows = "[" + ", ".join(["[1.0, 2.0]"] * (examples.MAX_SAMPLES + 1)) + "]"
    text = (examples.EXAMPLES_DIR / "seed002-linear.toml").read_text()
    path = tmp_path / "fuzz.toml"
    path.write_text(text.replace("inputs = [[2, 3]]", f"inputs = {rows}"))
    assert cli.main(["check", str(path)]) == 2
    assert "data.inputs: more than 1000000 samples" in capsys.readouterr().err
