"""Balanced, seeded block randomisation: which condition the n-th consenting participant gets.

Each block holds every condition equally often in a random order, so after every complete
block the groups are the same size and nobody can predict the next assignment from the last
ones. Block ``b`` is shuffled by its own generator, a child of the study's allocation seed,
so the sequence is reproducible from the definition alone and independent of how many
participants a station has seen.
"""

from __future__ import annotations

import numpy as np

from engine.study.definition import Study

__all__ = ["allocate", "allocation_sequence"]


def _block(study: Study, block: int) -> list[str]:
    names = [c.name for c in study.conditions]
    repeats = study.block_size // len(names)
    rng = np.random.default_rng(np.random.SeedSequence(study.allocation.seed, spawn_key=(block,)))
    order = rng.permutation(len(names) * repeats)
    return [names[i % len(names)] for i in order.tolist()]


def allocate(study: Study, index: int) -> str:
    """The condition of the participant at this 0-based position in the allocation order."""
    block, offset = divmod(index, study.block_size)
    return _block(study, block)[offset]


def allocation_sequence(study: Study, n: int) -> list[str]:
    """The first ``n`` assignments (for documentation and checks)."""
    return [allocate(study, i) for i in range(n)]
