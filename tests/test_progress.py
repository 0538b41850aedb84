"""The progress bar: silent for short runs, off the terminal and in --json mode."""

from __future__ import annotations

import io

from crosscheck.cli import main
from crosscheck.report.progress import Progress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_bar_appears_after_a_second_and_is_cleared_at_the_end():
    stream, clock = io.StringIO(), Clock()
    bar = Progress("xor", stream=stream, enabled=True, clock=clock)
    bar("torch", 0, 100)
    clock.now = 0.5
    bar("torch", 10, 100)
    assert stream.getvalue() == ""                 # under a second: nothing drawn
    clock.now = 2.0
    bar("torch", 50, 100)
    drawn = stream.getvalue()
    assert "xor torch: [" + "#" * 15 + "." * 15 + "] 50/100 steps 2.0s" in drawn
    bar("torch", 100, 100)
    assert stream.getvalue().endswith("\r" + " " * 99 + "\r")


def test_disabled_bar_writes_nothing():
    stream, clock = io.StringIO(), Clock()
    bar = Progress("xor", stream=stream, enabled=False, clock=clock)
    bar("numpy", 0, 10)
    clock.now = 5.0
    bar("numpy", 5, 10)
    assert stream.getvalue() == ""


def test_json_mode_prints_nothing_on_stderr(capsys):
    assert main(["run", "xor", "--backends", "numpy", "--steps", "40", "--json"]) in (0, 1)
    assert capsys.readouterr().err == ""
