"""The picture of a network (crosscheck show --svg): valid SVG with one arrow per weight and one
circle per neuron, the example's names, and each weight before → after the step, the values
worked by hand from seed 002's printed numbers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from crosscheck import examples
from crosscheck.cli import main

SVG = "{http://www.w3.org/2000/svg}"


def drawn(tmp_path, capsys, name):
    path = tmp_path / f"{name}.svg"
    assert main(["show", name, "--svg", str(path)]) == 0
    assert capsys.readouterr().out.rstrip().endswith(f"picture: {path}")
    root = ET.parse(path).getroot()                 # well-formed XML, or this raises
    texts = [t.text for t in root.iter(f"{SVG}text")]
    return root, texts


def test_seed002_is_drawn_with_its_names_and_the_step(tmp_path, capsys):
    root, texts = drawn(tmp_path, capsys, "seed002-linear")
    assert len(list(root.iter(f"{SVG}line"))) == 6            # w1..w6
    assert len(list(root.iter(f"{SVG}circle"))) == 5          # i1, i2, h1, h2, prediction
    assert {"i1", "i2", "h1", "h2", "prediction", "identity", "inputs"} <= set(texts)
    # w5 = 0.11 − 0.05 · (−0.7963 · 1.23) = 0.158972; w1 = 0.12 − 0.05 · (−0.7963 · 2 · 0.11).
    assert "w5 = 0.11 → 0.159" in texts and "w1 = 0.12 → 0.1288" in texts


def test_a_network_that_trains_for_many_steps_shows_where_it_starts(tmp_path, capsys):
    example = examples.load(examples.find("seed000"))
    root, texts = drawn(tmp_path, capsys, "seed000")
    weights = sum(layer.weights.size for layer in example.layers)
    assert len(list(root.iter(f"{SVG}line"))) == weights == 12 + 12 + 6
    assert not any("→" in text for text in texts)
    assert "+ b = 0.1" in texts and "-0.4" in texts          # h1's bias; W0[0, 1]


def test_the_svg_file_is_checked_before_anything_is_computed(tmp_path, capsys):
    assert main(["show", "xor", "--svg", str(tmp_path / "no-such-folder" / "x.svg")]) == 2
    assert "no-such-folder" in capsys.readouterr().err
