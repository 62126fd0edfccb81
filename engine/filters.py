"""Filters: what is never recommended, each counted so the x-ray can show what it removed.

Applied in order to the merged candidates; a candidate removed by an earlier filter is not
counted again by a later one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from engine.batch import Batch
from engine.catalog import Catalog
from engine.config import Config
from engine.profile import UserState, negative_strengths

I64 = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class FilterContext:
    catalog: Catalog
    config: Config
    now: float
    keyword_blocked: I64  # videos matching any of the viewer's keyword filters, sorted


def _ids_of(values: list[int]) -> I64:
    return np.sort(np.fromiter(values, dtype=np.int64, count=len(values)))


class Rows:
    """The candidates of a batch of viewers laid end to end (:class:`engine.batch.Batch`), with
    what each filter reads per viewer spread to its rows: each filter is one pass for all."""

    def __init__(
        self, ids: Sequence[I64], states: Sequence[UserState], contexts: Sequence[FilterContext]
    ) -> None:
        self.batch = Batch.of(ids)
        self.states = states
        self.contexts = contexts
        # A batch's viewers share one catalog and config; only the time and keywords differ.
        self.catalog = contexts[0].catalog
        self.config = contexts[0].config

    @property
    def ids(self) -> I64:
        return self.batch.ids

    @cached_property
    def now(self) -> npt.NDArray[np.float64]:
        """Each row's viewer's time."""
        return np.asarray(self.batch.per_row([c.now for c in self.contexts]), dtype=np.float64)


def not_published(rows: Rows) -> Mask:
    removed: Mask = rows.catalog.world.videos.published_at[rows.ids] > rows.now
    return removed


def already_seen(rows: Rows) -> Mask:
    return rows.batch.member([s.seen for s in rows.states], rows.ids)


def served_recently(rows: Rows) -> Mask | None:
    """Served but never reached: give it a rest before it may come back."""
    after = rows.config.filters.resurface_after
    # The cut computed once per viewer, not once for each of its up to 256 served entries
    # (read per entry it was the costliest line of the filters).
    recent = [_served_after(s.recently_served, s.n_served - after) for s in rows.states]
    if not any(recent):
        return None
    return rows.batch.member_sorted([_ids_of(r) for r in recent], rows.ids)


def _served_after(served: Iterable[tuple[int, int]], cut: int) -> list[int]:
    """The videos served at a position after ``cut``."""
    return [video for position, video in served if position > cut]


def duplicate_of_seen(rows: Rows) -> Mask:
    return rows.batch.member([s.seen_roots for s in rows.states], rows.catalog.dup_root[rows.ids])


def hidden_creator(rows: Rows) -> Mask | None:
    if not any(s.hidden_creators for s in rows.states):
        return None
    creators = rows.catalog.world.videos.creator_id[rows.ids]
    return rows.batch.member([s.hidden_creators for s in rows.states], creators)


def not_interested(rows: Rows) -> Mask | None:
    """Marks still stronger than the threshold after fading (video marks never fade)."""
    cfg = rows.config.profile
    if not any(s.negatives for s in rows.states):
        return None
    removed = np.zeros(len(rows.ids), dtype=bool)
    videos = rows.catalog.world.videos
    columns: dict[str, npt.NDArray[np.integer]] = {
        "video": rows.ids,
        "creator": videos.creator_id[rows.ids],
        "sound": videos.sound_id[rows.ids],
        "topic": videos.topic_id[rows.ids],
    }
    for scope, column in columns.items():
        half_life = cfg.negative_half_life_h
        strong = [
            [
                t
                for t, s in negative_strengths(state, scope, c.now, half_life).items()
                if s > cfg.negative_filter_above
            ]
            for state, c in zip(rows.states, rows.contexts, strict=True)
        ]
        if any(strong):
            removed |= rows.batch.member_sorted([_ids_of(t) for t in strong], column)
    return removed


def reported(rows: Rows) -> Mask | None:
    if not any(s.reported for s in rows.states):
        return None
    return rows.batch.member([s.reported for s in rows.states], rows.ids)


def spam(rows: Rows) -> Mask:
    removed: Mask = rows.catalog.world.videos.spam[rows.ids]
    return removed


def sensitive(rows: Rows) -> Mask | None:
    allowed = [s.allow_sensitive for s in rows.states]
    if all(allowed):
        return None
    removed: Mask = rows.catalog.world.videos.sensitive[rows.ids]
    if any(allowed):
        removed &= ~np.asarray(rows.batch.per_row(allowed), dtype=bool)
    return removed


def keyword(rows: Rows) -> Mask | None:
    if not any(len(c.keyword_blocked) for c in rows.contexts):
        return None
    return rows.batch.member_sorted([c.keyword_blocked for c in rows.contexts], rows.ids)


def language(rows: Rows) -> Mask | None:
    rule = rows.config.filters.language
    if rule == "any":
        return None
    langs = rows.catalog.world.videos.language[rows.ids]
    allowed = langs == rows.batch.per_row([s.language for s in rows.states])
    if rule == "user+en":
        allowed |= langs == rows.catalog.language_index.get("en", -1)
    rejected: Mask = ~allowed
    return rejected


# A rule answers None when it removes nothing for any viewer of the batch (no hides, no
# marks, no keywords...): most picks skip most rules without a pass over the candidates.
FILTERS: tuple[tuple[str, Callable[[Rows], Mask | None]], ...] = (
    ("not yet published", not_published),
    ("already seen", already_seen),
    ("served recently, not seen", served_recently),
    ("duplicate of a seen video", duplicate_of_seen),
    ("hidden creator", hidden_creator),
    ("not interested", not_interested),
    ("reported", reported),
    ("spam", spam),
    ("sensitive", sensitive),
    ("keyword filter", keyword),
    ("language", language),
)


def apply_filters(ids: I64, state: UserState, ctx: FilterContext) -> tuple[Mask, dict[str, int]]:
    """Which candidates survive every filter, and how many each filter removed."""
    return apply_filters_many([ids], [state], [ctx])[0]


def apply_filters_many(
    ids: Sequence[I64], states: Sequence[UserState], contexts: Sequence[FilterContext]
) -> list[tuple[Mask, dict[str, int]]]:
    """:func:`apply_filters` of several viewers' candidates at once: each filter is one pass over
    the whole batch, and each viewer's answer is the same as alone (membership is tested
    against that viewer's own sets only)."""
    rows = Rows(ids, states, contexts)
    keep = np.ones(len(rows.ids), dtype=bool)
    removed = np.zeros((len(FILTERS), len(rows.ids)), dtype=bool)
    for f, (_, rule) in enumerate(FILTERS):
        mask = rule(rows)
        if mask is None:
            continue  # its row of ``removed`` stays all False
        taken = np.logical_and(mask, keep, out=removed[f])
        keep ^= taken  # taken is inside keep: this takes it out
    # How many each filter took from each viewer: one count per filter and viewer.
    if rows.batch.viewers == 1:
        # A sum along the rows: count_nonzero with an axis takes a bool copy first (9 -> 4 us).
        counts = [removed.sum(axis=1).tolist()]
    else:
        running = np.zeros((len(FILTERS), len(rows.ids) + 1), dtype=np.int64)
        np.cumsum(removed, axis=1, out=running[:, 1:])
        bounds = rows.batch.bounds
        counts = (running[:, bounds[1:]] - running[:, bounds[:-1]]).T.tolist()
    names = [name for name, _ in FILTERS]
    removed_by = [dict(zip(names, mine, strict=True)) for mine in counts]
    return list(zip(rows.batch.split(keep), removed_by, strict=True))
