"""A one-line progress bar on stderr for training runs that take longer than about a second.

It draws nothing when stderr is not a terminal (logs, CI, pipes) or in ``--json`` mode, and
nothing for a run that finishes within ``delay`` seconds, so short runs print no noise.
"""

from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str = "", stream=None, enabled=None, delay: float = 1.0,
                 clock=time.monotonic, width: int = 30, unit: str = "steps"):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.label, self.delay, self.clock, self.width = label, delay, clock, width
        self.unit = unit
        self.started: dict[str, float] = {}
        self.drawn = False

    def __call__(self, backend: str, done: int, total: int) -> None:
        """Called after each piece of a run: ``done`` of ``total`` units on ``backend``."""
        if not self.enabled:
            return
        now = self.clock()
        start = self.started.setdefault(backend, now)
        if done >= total:
            self.clear()
            self.started.pop(backend, None)
            return
        if now - start < self.delay:
            return
        filled = self.width * done // total
        bar = "#" * filled + "." * (self.width - filled)
        line = f"{self.label} {backend}: [{bar}] {done}/{total} {self.unit} {now - start:.1f}s"
        self.stream.write("\r" + line[:99])
        self.stream.flush()
        self.drawn = True

    def clear(self) -> None:
        if self.drawn:
            self.stream.write("\r" + " " * 99 + "\r")
            self.stream.flush()
            self.drawn = False
