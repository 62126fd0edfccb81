"""The world's arrays in one block of memory the kernel may back with 2 MiB pages.

A pick gathers a few hundred candidates from dozens of per-video columns (topic, creator,
sound, publication time, engagement counters...), each at random places of an array as long as
the catalogue. With 4 KiB pages every column of a 100k world spans hundreds of pages, so a pick
that follows anything else (a viewing in the app, another program) misses the TLB at nearly
every candidate of every column: measured on 100k videos, seven columns gathered for 400
candidates after other work cost 252 us with 4 KiB pages, 93 us packed into huge pages (warm,
both 6-9 us). numpy asks for huge pages only for arrays of 4 MiB or more, and most columns are
smaller, so :func:`packed` copies them side by side into one block aligned to 2 MiB and asks
for huge pages for it (Linux ``madvise``; elsewhere it is one plain block). The values, and so
every pick, are the same.
"""

from __future__ import annotations

import mmap
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

HUGE_PAGE = 2 << 20
ALIGN = 64  # each array starts on its own cache line


def packed(
    arrays: Mapping[str, npt.NDArray[Any]], *, writable: bool = False
) -> dict[str, npt.NDArray[Any]]:
    """The same arrays (values, dtypes, shapes), laid side by side in one block the kernel is
    asked to back with huge pages; read-only unless ``writable`` (kept up to date in place)."""
    result = side_by_side({name: (a.dtype, a.shape) for name, a in arrays.items()})
    for name, view in result.items():
        view[...] = arrays[name]
        view.setflags(write=writable)
    return result


def side_by_side(
    layout: Mapping[str, tuple[np.dtype[Any], tuple[int, ...]]],
) -> dict[str, npt.NDArray[Any]]:
    """Zeroed, writable arrays of these dtypes and shapes, side by side in one block the
    kernel is asked to back with huge pages (fill them, then make them read-only)."""
    sizes = {
        name: _aligned(dtype.itemsize * int(np.prod(shape, dtype=np.int64)))
        for name, (dtype, shape) in layout.items()
    }
    block = _block(sum(sizes.values()))
    arrays = {}
    at = 0
    for name, (dtype, shape) in layout.items():
        nbytes = dtype.itemsize * int(np.prod(shape, dtype=np.int64))
        arrays[name] = block[at : at + nbytes].view(dtype).reshape(shape)
        at += sizes[name]
    return arrays


def _aligned(nbytes: int) -> int:
    return max(ALIGN, -(-nbytes // ALIGN) * ALIGN)


def _block(nbytes: int) -> npt.NDArray[np.uint8]:
    """``nbytes`` of zeroed memory starting on a huge-page boundary, huge pages asked for."""
    if hasattr(mmap, "MADV_HUGEPAGE"):
        # Private: Linux backs shared anonymous memory with huge pages only if told to
        # system-wide (shmem_enabled), private memory whenever it is asked for them.
        region = mmap.mmap(-1, nbytes + HUGE_PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        region.madvise(mmap.MADV_HUGEPAGE)
    else:
        region = mmap.mmap(-1, nbytes + HUGE_PAGE)
    whole = np.frombuffer(region, dtype=np.uint8)
    start = -whole.ctypes.data % HUGE_PAGE
    return whole[start : start + nbytes]
