"""The sweep's memory (``crosscheck/runs/memory.py``): what the process frees, it reuses without
the kernel faulting it in again, as the kernel's own count of page faults says."""

from __future__ import annotations

import resource
from pathlib import Path

import numpy as np
import pytest

from crosscheck.runs import memory

PAGE = resource.getpagesize()
HUGE_ALWAYS = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def test_reserved_memory_is_reused_without_page_faults(monkeypatch):
    """After ``reserve(64)``, arrays of 64 MiB in blocks of 16 MiB (as large as a sweep's) are
    made of pages the process holds: fewer than a tenth of their 4 KiB pages fault in. Fresh
    memory faults every page in (16,384 faults); where the kernel always uses huge pages it
    faults 2 MiB at a time, and the count would prove nothing, so the test is skipped there."""
    if not memory.keep_freed():
        pytest.skip("not glibc: the allocator keeps its own defaults")
    if HUGE_ALWAYS.exists() and "[always]" in HUGE_ALWAYS.read_text():
        pytest.skip("transparent huge pages always on: a fault brings in 2 MiB")
    monkeypatch.setattr(memory, "_reserved", 0)
    memory.reserve(64)
    before = _faults()
    blocks = [np.ones(16 * 2**20 // 8) for _ in range(4)]
    faults = _faults() - before
    assert sum(block.nbytes for block in blocks) == 64 * 2**20
    assert faults < 64 * 2**20 // PAGE // 10, f"{faults} page faults for 64 MiB"
