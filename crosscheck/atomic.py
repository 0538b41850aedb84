"""Files written whole or not at all: a temporary file beside the target, renamed over it.

An interrupted run (Ctrl-C, a crash, a full disk) leaves the target as it was and no
temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _mode() -> int:
    """The permissions a new file gets here: read and write for all, less the umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def replacing(path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` when the block ends
    normally, and remove it when the block is left by any exception or interrupt. The file
    gets the permissions of any new file (``mkstemp`` alone would leave it private)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, _mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path, text: str) -> None:
    with replacing(path) as tmp:
        tmp.write_text(text)
