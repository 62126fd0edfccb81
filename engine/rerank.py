"""Re-ranking: diversity on purpose, on top of the scores.

Looking back over the last ``window`` videos the viewer saw: never the same creator or the same
sound back to back; a decaying author penalty (× ``author_decay`` per repeat, floored); at most
``topic_cap`` videos of one topic in the window. The best ``slate`` items go to the final pick,
with the best exploration item kept in the slate so the exploration share has something to give.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.catalog import Catalog
from engine.config import Rerank as RerankConfig

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Slate:
    order: I64  # indices into the candidate arrays, best first
    adjusted: F64  # score after diversity penalties, per candidate
    author_penalty: F64  # per candidate
    blocked: dict[str, int]  # how many candidates each rule kept out of the slate


def _repeats(values: npt.NDArray[np.integer], recent: npt.NDArray[np.integer]) -> I64:
    if len(recent) == 0:
        return np.zeros(len(values), dtype=np.int64)
    # A few recent values against a few hundred candidates: two binary searches, no matrix.
    ordered = np.sort(recent)
    counts: I64 = np.searchsorted(ordered, values, "right") - np.searchsorted(ordered, values)
    return counts


def rerank(
    ids: I64,
    scores: F64,
    is_explore: Mask,
    recent_videos: list[int],
    catalog: Catalog,
    config: RerankConfig,
) -> Slate:
    v = catalog.world.videos
    recent = np.array(recent_videos[-config.window :] if config.window else [], dtype=np.int64)
    creators, sounds, topics = v.creator_id[ids], v.sound_id[ids], v.topic_id[ids]
    author_repeats = _repeats(creators, v.creator_id[recent])
    penalty = np.maximum(config.author_floor, config.author_decay**author_repeats)
    adjusted = np.where(scores >= 0, scores * penalty, scores / penalty)
    back_to_back = np.zeros(len(ids), dtype=bool)
    if len(recent):
        last = recent[-1]
        back_to_back = (creators == v.creator_id[last]) | (sounds == v.sound_id[last])
    over_cap = _repeats(topics, v.topic_id[recent]) >= max(config.topic_cap, 1)
    eligible = ~back_to_back & ~over_cap
    # The rules bend rather than leave the viewer with nothing to watch.
    if not eligible.any():
        eligible = ~back_to_back if (~back_to_back).any() else np.ones(len(ids), dtype=bool)
    blocked = {
        "same creator or sound as the last video": int(back_to_back.sum()),
        "topic cap": int((over_cap & ~back_to_back).sum()),
    }
    candidates = np.flatnonzero(eligible)
    ranked = candidates[np.argsort(-adjusted[candidates], kind="stable")]
    order = ranked[: max(config.slate, 1)]
    explore_left = ranked[config.slate :][is_explore[ranked[config.slate :]]]
    if not is_explore[order].any() and len(explore_left):
        order = np.append(order, explore_left[0])
    return Slate(
        order=order.astype(np.int64), adjusted=adjusted, author_penalty=penalty, blocked=blocked
    )
