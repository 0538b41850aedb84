"""The sweep's memory: what a call frees stays in the process, for the next call to reuse.

Every padded call of ``crosscheck sweep`` allocates arrays of up to 17 MB, about 400 MB in all
with three calls alive (``IN_FLIGHT``), and frees them when it has been compared. By default
glibc's allocator hands such blocks back to the operating system (a block above its mmap
threshold at once, the free top of a heap above its trim threshold) and gives each thread that
allocates an arena of its own, whose heaps it hands back too; and NumPy asks the kernel for huge
pages for every array of 4 MB or more, which, where the kernel compacts memory to find them
(``defrag`` ``madvise``, as on the 2-core machine), makes a fault slower still. The next call's
arrays are then fresh pages, which the kernel faults in and zeroes: measured, 0.2–0.5 s of system
time in a 4,000-network sweep of 0.6–0.8 s, a fifth to a third of all its CPU time
(``benchmarks/README.md``).

``keep_freed()`` tells glibc to keep them (one arena for every thread, no block of up to 32 MiB
mapped on its own, no trimming) and NumPy to ask for ordinary pages; ``reserve`` then faults in,
once, during the sweep's setup, the memory its calls will reuse. The cost is that the process
keeps the most memory it ever held until it ends. Elsewhere than glibc nothing changes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import numpy as np

# mallopt's parameters (malloc.h), and the largest block kept in a heap rather than mapped on
# its own: glibc's own ceiling for its adaptive threshold, DEFAULT_MMAP_THRESHOLD_MAX.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
LARGEST_KEPT = 32 * 2**20


@functools.cache
def keep_freed() -> bool:
    """Keep freed memory in the process and use ordinary pages (see the module docstring);
    whether glibc agreed. One arena for every thread holds only if this runs before a second
    thread allocates: call it before a framework starts its threads."""
    huge_pages = getattr(np._core.multiarray, "_set_madvise_hugepage", None)
    if huge_pages is not None:
        huge_pages(False)
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    settings = {M_ARENA_MAX: 1, M_MMAP_THRESHOLD: LARGEST_KEPT, M_TRIM_THRESHOLD: 2**31 - 1}
    return all(mallopt(parameter, value) == 1 for parameter, value in settings.items())


_reserved = 0


def reserve(megabytes: int) -> None:
    """Fault in ``megabytes`` of memory (once a process) in blocks that the allocator keeps,
    and free it: pages that the arrays allocated next reuse without faulting. Only after
    ``keep_freed`` is there anything to reuse."""
    global _reserved
    block = LARGEST_KEPT // 2
    blocks = [np.empty(block, np.uint8) for _ in range(-(-(megabytes - _reserved) * 2**20 //
                                                          block))]
    for pages in blocks:
        pages[::4096] = 0                   # one byte a page: the kernel zeroes the rest
    _reserved = max(_reserved, megabytes)


__all__ = ["keep_freed", "reserve"]
