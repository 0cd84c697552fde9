"""How a worker process gives memory back.

A sign-in hashes with Argon2id in a 19 MiB block. glibc's malloc serves a block that large by
mmap and unmaps it on free, but only until the first such free: from then on it raises its
threshold to the block's size and serves the next ones from a per-thread heap, which it keeps.
Each of a worker's threads ends up holding its own 19 MiB for good: a burst of sign-ins took
the whole server from about 150 to 345 MB, and it stayed there (bench: the `signin`
scenario). A fixed threshold keeps large blocks mmapped, so they go back to the system when
freed; fewer heaps (arenas) bound what thread-to-thread fragmentation can keep.
"""

from __future__ import annotations

import ctypes
import functools
import logging

# From glibc's <malloc.h>.
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8

LARGE_BLOCK_BYTES = 1 << 20  # blocks of 1 MiB and more are mapped and returned when freed
ARENAS = 2

_log = logging.getLogger(__name__)


@functools.cache
def give_back_large_blocks() -> bool:
    """Tell glibc's malloc to return large blocks to the system when they are freed; True if
    it took the settings (False on a C library without mallopt, e.g. musl or macOS). Once a
    process: the settings are the process's."""
    try:
        # The symbols already loaded into this process, libc's among them.
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    took = mallopt(_M_MMAP_THRESHOLD, LARGE_BLOCK_BYTES) == 1
    took = mallopt(_M_ARENA_MAX, ARENAS) == 1 and took
    if not took:
        _log.debug("mallopt refused the memory settings")
    return took
