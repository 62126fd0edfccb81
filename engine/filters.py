"""Filters: what is never recommended, each counted so the x-ray can show what it removed.

Applied in order to the merged candidates; a candidate removed by an earlier filter is not
counted again by a later one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.catalog import Catalog
from engine.config import Config
from engine.idset import in_sorted
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


def not_published(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    removed: Mask = ctx.catalog.world.videos.published_at[ids] > ctx.now
    return removed


def already_seen(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    return state.seen.mask(ids)


def served_recently(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    """Served but never reached: give it a rest before it may come back."""
    horizon = state.n_served - ctx.config.filters.resurface_after
    recent = [video for position, video in state.recently_served if position > horizon]
    if not recent:
        return np.zeros(len(ids), dtype=bool)
    return in_sorted(ids, _ids_of(recent))


def duplicate_of_seen(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    return state.seen_roots.mask(ctx.catalog.dup_root[ids])


def hidden_creator(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    return state.hidden_creators.mask(ctx.catalog.world.videos.creator_id[ids])


def not_interested(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    """Marks still stronger than the threshold after fading (video marks never fade)."""
    cfg = ctx.config.profile
    videos = ctx.catalog.world.videos
    columns: dict[str, npt.NDArray[np.integer]] = {
        "video": ids,
        "creator": videos.creator_id[ids],
        "sound": videos.sound_id[ids],
        "topic": videos.topic_id[ids],
    }
    removed = np.zeros(len(ids), dtype=bool)
    for scope, column in columns.items():
        strengths = negative_strengths(state, scope, ctx.now, cfg.negative_half_life_h)
        strong = [t for t, s in strengths.items() if s > cfg.negative_filter_above]
        if strong:
            removed |= in_sorted(column, _ids_of(strong))
    return removed


def reported(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    return state.reported.mask(ids)


def spam(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    removed: Mask = ctx.catalog.world.videos.spam[ids]
    return removed


def sensitive(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    if state.allow_sensitive:
        return np.zeros(len(ids), dtype=bool)
    removed: Mask = ctx.catalog.world.videos.sensitive[ids]
    return removed


def keyword(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    return in_sorted(ids, ctx.keyword_blocked)


def language(ids: I64, state: UserState, ctx: FilterContext) -> Mask:
    rule = ctx.config.filters.language
    if rule == "any":
        return np.zeros(len(ids), dtype=bool)
    langs = ctx.catalog.world.videos.language[ids]
    allowed = langs == state.language
    if rule == "user+en":
        allowed |= langs == ctx.catalog.language_index.get("en", -1)
    rejected: Mask = ~allowed
    return rejected


FILTERS: tuple[tuple[str, Callable[[I64, UserState, FilterContext], Mask]], ...] = (
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
    keep = np.ones(len(ids), dtype=bool)
    removed_by: dict[str, int] = {}
    for name, rule in FILTERS:
        removed = rule(ids, state, ctx) & keep
        removed_by[name] = int(removed.sum())
        keep &= ~removed
    return keep, removed_by
