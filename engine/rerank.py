"""Re-ranking: diversity on purpose, on top of the scores.

Looking back over the last ``window`` videos the viewer saw: never the same creator or the same
sound back to back; a decaying author penalty (× ``author_decay`` per repeat, floored); at most
``topic_cap`` videos of one topic in the window (``topic_cap_finishing`` more of a topic the
viewer has finished every time lately: :func:`finishing_topics`). The best ``slate`` items go to
the final pick, with the best exploration item, the best new creator's upload and the best
video of a topic the viewer turned up with its slider kept in the slate so the exploration,
debut and slider shares have something to give.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.batch import Batch
from engine.catalog import Catalog
from engine.config import Rerank as RerankConfig
from engine.idset import counts_in, stable_order
from engine.reactions import CLOSING
from engine.world import Videos

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Slate:
    order: I64  # indices into the candidate arrays, best first
    adjusted: F64  # score after diversity penalties, per candidate
    author_penalty: F64  # per candidate
    blocked: dict[str, int]  # how many candidates each rule kept out of the slate


def rerank(
    ids: I64,
    scores: F64,
    is_explore: Mask,
    recent_videos: list[int],
    catalog: Catalog,
    config: RerankConfig,
    is_debut: Mask | None = None,
) -> Slate:
    """One viewer's slate: the batch of one of :func:`rerank_many`."""
    debut = None if is_debut is None else [is_debut]
    return rerank_many([ids], [scores], [is_explore], [recent_videos], catalog, config, debut)[0]


def rerank_many(
    ids: Sequence[I64],
    scores: Sequence[F64],
    is_explore: Sequence[Mask],
    recent_videos: Sequence[list[int]],
    catalog: Catalog,
    config: RerankConfig,
    is_debut: Sequence[Mask] | None = None,
    is_raised: Sequence[Mask] | None = None,
    finishing: Sequence[Sequence[int]] | None = None,
) -> list[Slate]:
    """Each viewer's slate (its candidates ``ids[k]``, their ``scores[k]``, the videos it saw
    last ``recent_videos[k]``, the topics it keeps finishing ``finishing[k]``), the rules
    applied over every viewer's candidates at once (:class:`engine.batch.Batch`): each slate is
    the same as alone."""
    batch = Batch.of(ids)
    v = catalog.world.videos
    window = config.window
    rows = batch.ids
    creators, sounds, topics = v.creator_id[rows], v.sound_id[rows], v.topic_id[rows]
    alone = batch.viewers == 1  # a single pick counts and sorts in fewer calls, the same way
    if alone:
        author_repeats, topic_counts, back_to_back = _window_alone(
            v, recent_videos[0][-window:] if window else [], creators, sounds, topics
        )
    else:
        recent = batch.padded([r[-window:] if window else [] for r in recent_videos], window)
        author_repeats = batch.count_in(_column_of(v.creator_id, recent), creators)
        topic_counts = batch.count_in(_column_of(v.topic_id, recent), topics)
        # The last video each viewer saw (-1: none, which no creator or sound equals).
        last = recent[np.arange(batch.viewers), np.maximum((recent >= 0).sum(axis=1) - 1, 0)]
        back_to_back = (creators == _column_of(v.creator_id, last)[batch.viewer]) | (
            sounds == _column_of(v.sound_id, last)[batch.viewer]
        )
    penalty = np.maximum(config.author_floor, config.author_decay**author_repeats)
    score = np.concatenate(scores) if len(scores) > 1 else scores[0]
    adjusted = np.where(score >= 0, score * penalty, score / penalty)
    over_cap = topic_counts >= _topic_caps(batch, topics, finishing, config)
    eligible = ~back_to_back & ~over_cap
    if alone:
        empty = [] if eligible.any() else [0]
    else:
        counts = np.bincount(batch.viewer[eligible], minlength=batch.viewers)
        empty = np.flatnonzero(counts == 0).tolist()
    for k in empty:
        # The rules bend rather than leave the viewer with nothing to watch.
        part = slice(int(batch.bounds[k]), int(batch.bounds[k + 1]))
        open_ = ~back_to_back[part]
        eligible[part] = open_ if open_.any() else True
    capped_rows = over_cap & ~back_to_back
    if alone:
        creator_blocked = [int(np.count_nonzero(back_to_back))]
        capped = [int(np.count_nonzero(capped_rows))]
    else:
        creator_blocked = np.bincount(batch.viewer[back_to_back], minlength=batch.viewers).tolist()
        capped = np.bincount(batch.viewer[capped_rows], minlength=batch.viewers).tolist()
    candidates = eligible.nonzero()[0]
    # Best first within each viewer; ties keep candidate order, as a stable sort per viewer.
    if alone:
        ranked = candidates[stable_order(-adjusted[candidates])]
        cuts = [0, len(ranked)]
    else:
        ranked = candidates[stable_order(-adjusted[candidates], batch.viewer[candidates])]
        cuts = np.searchsorted(batch.viewer[ranked], np.arange(batch.viewers + 1)).tolist()
    explore = np.concatenate(is_explore) if len(is_explore) > 1 else is_explore[0]
    debut = np.zeros(len(explore), bool) if is_debut is None else np.concatenate(is_debut)
    raised = np.zeros(len(explore), bool) if is_raised is None else np.concatenate(is_raised)
    slates = []
    for k, blocked in enumerate(zip(creator_blocked, capped, strict=True)):
        lo, hi = int(batch.bounds[k]), int(batch.bounds[k + 1])
        mine = ranked[cuts[k] : cuts[k + 1]] - lo
        slates.append(
            _slate(
                mine,
                (explore[lo:hi], debut[lo:hi], raised[lo:hi]),
                adjusted[lo:hi],
                penalty[lo:hi],
                blocked,
                config,
            )
        )
    return slates


def _slate(
    ranked: I64,
    reserved: tuple[Mask, ...],
    adjusted: F64,
    penalty: F64,
    blocked: tuple[int, int],
    config: RerankConfig,
) -> Slate:
    """The best ``slate`` of one viewer's ranked candidates, and the best of each ``reserved``
    kind (exploration items, new creators' uploads, a raised topic's videos) when none made it
    on its score."""
    order = ranked[: max(config.slate, 1)]
    rest = ranked[config.slate :]
    for mask in reserved:
        left = rest[mask[rest]]
        if not mask[order].any() and len(left):
            order = np.append(order, left[0])
    return Slate(
        order=order.astype(np.int64),
        adjusted=adjusted,
        author_penalty=penalty,
        blocked={
            "same creator or sound as the last video": blocked[0],
            "topic cap": blocked[1],
        },
    )


def finishing_topics(
    reactions: Iterable[tuple[str, int]], topic_id: npt.NDArray[np.integer], config: RerankConfig
) -> list[int]:
    """The topics the viewer finished every time it met them lately: at least ``topic_cap`` -
    1 of its last ``window`` closed viewings each, every one of them completed.

    The topic cap is there so a feed does not bore; a viewer who finishes video after video of
    one topic and swipes the rest away is not bored of it, and holding it back at the cap
    only serves videos it skips. Such a topic gets ``topic_cap_finishing`` more; its first
    skip restores the cap. Simulated personas hardly ever finish that many of a topic in a row
    (engine/sim/README.md has the figures), so this is for a viewer plainly
    bingeing.
    """
    closings = [(kind, video) for kind, video in reactions if kind in CLOSING][-config.window :]
    met: dict[int, int] = {}
    skipped: set[int] = set()
    for kind, video in closings:
        topic = int(topic_id[video])
        met[topic] = met.get(topic, 0) + 1
        if kind != "complete":
            skipped.add(topic)
    return sorted(t for t, n in met.items() if n >= config.topic_cap - 1 and t not in skipped)


def _topic_caps(
    batch: Batch,
    topics: npt.NDArray[np.integer],
    finishing: Sequence[Sequence[int]] | None,
    config: RerankConfig,
) -> I64:
    """Each candidate's topic cap: ``topic_cap``, ``topic_cap_finishing`` more if its viewer
    keeps finishing its topic."""
    cap = np.full(len(topics), max(config.topic_cap, 1), dtype=np.int64)
    if finishing is None or not config.topic_cap_finishing or not any(finishing):
        return cap
    width = max(map(len, finishing))
    binge = batch.count_in(batch.padded(finishing, width), topics) > 0
    cap[binge] += config.topic_cap_finishing
    return cap


def _window_alone(
    v: Videos,
    recent: list[int],
    creators: npt.NDArray[np.integer],
    sounds: npt.NDArray[np.integer],
    topics: npt.NDArray[np.integer],
) -> tuple[I64, I64, Mask]:
    """One viewer's window counts (each candidate's creator, then topic, among the ``recent``
    videos: :func:`engine.idset.counts_in`, without the batch's padding and keys), and
    whether each candidate repeats the last video's creator or sound."""
    videos = np.array(recent, dtype=np.int64)
    counts = []
    for column, values in ((v.creator_id, creators), (v.topic_id, topics)):
        counts.append(counts_in(values, column[videos]))
    last_creator = last_sound = -1  # no video yet: no creator or sound to repeat
    if recent:
        last_creator, last_sound = int(v.creator_id[recent[-1]]), int(v.sound_id[recent[-1]])
    back_to_back: Mask = (creators == last_creator) | (sounds == last_sound)
    return counts[0], counts[1], back_to_back


def _column_of(column: npt.NDArray[np.integer], videos: I64) -> I64:
    """A per-video column of video ids padded with -1 (padding stays -1, which no value
    equals)."""
    found: I64 = np.where(videos >= 0, column[np.maximum(videos, 0)], -1)
    return found
