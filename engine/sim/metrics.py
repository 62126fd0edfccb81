"""What a run measured: per-persona parts of every metric, population metrics, and curves.

Most metrics are a ratio of two sums over personas (seconds watched / sessions, likes /
impressions...). Each is kept as per-persona ``(numerator, denominator)`` parts, so the point
estimate is ``Σ num / Σ den`` (a per-impression rate weighs every impression alike, the way
KuaiRand's rates are counted) and a paired bootstrap can resample personas. A few metrics only
exist for a population (coverage, the Gini of creator exposure); they are functions of
per-persona weights, so the bootstrap resamples those too. Curves (learning curve, topic share
over time, Lorenz curve) are descriptive; a comparison draws pointwise bands around the learning
and topic-share curves from the same shard resampling (:func:`curve_terms`).

Definitions, per impression unless said otherwise:

- valid play: watched ≥ the whole video if it lasts ≤ 7 s, else > 7 s (KuaiRand ``is_click``);
- long view: watched ≥ the whole video if it lasts ≤ 18 s, else ≥ 18 s (KuaiRand ``long_view``);
- strong negative: "not interested" or a report (KuaiRand ``is_hate``);
- time to personalise: impressions until the rolling share of the persona's true top (loved)
  topics over the last 10 reaches 0.6; a persona that never gets there counts its impressions
  so far (a lower bound), and ``personalised`` says how many got there;
- profile accuracy: Spearman correlation between the engine's topic affinities and the hidden
  topic taste, at the end of the run;
- intra-list diversity: mean pairwise cosine distance of embeddings within consecutive lists of
  10 videos of a session; topic entropy: entropy (bits) of a persona's topics;
- top-topic share (filter-bubble index): in consecutive lists of 10 of a persona's feed, the
  share of the list's most frequent topic;
- negative-feedback return: after a "not interested" on a creator, sound or topic, the share of
  the next 20 (100) items that have that creator, sound or topic;
- dismissed topic kept: after a "not interested" on a topic, the topic's share of the next 20
  items over its share of the 20 items up to and including the dismissed one (summed over
  dismissals: Σ share after / Σ share before; 0 = gone, 1 = unchanged);
- windows of a persona's feed (impressions counted from 1 over its whole life): loved-topic
  share over impressions 21-40, watch time per impression over 1-10 and over 41-80, and the
  learning lift, watch 41-80 / watch 1-10 − 1 (a ratio of two metrics, so no interval).

Every metric and curve is also measured on two groups of personas (:meth:`Population.groups`):
``onboarded`` (named topics at sign-up) and ``cold`` (named none). A ratio metric of a group
sums its personas' parts; a population metric weighs its personas by 1, the rest by 0.
Per action, predictions are checked against what happened (:mod:`engine.sim.calibration`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from engine.sim.calibration import Calibration, prediction_quality
from engine.sim.experiment import ArmRun
from engine.sim.trace import NO_NEGATIVE, SCOPE_CODE, Trace
from engine.world import World

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
LIST_SIZE = 10
PERSONALISED_SHARE = 0.6
RETURN_WINDOWS = (20, 100)
CURVE_BUCKET = 5  # impressions per point of the learning and topic-share curves
DISMISS_WINDOW = 20  # items before and after a topic's "not interested"
# (first, last) impressions of a persona's feed, counted from 1, of the window metrics.
EARLY, LOVED_WINDOW, LATE = (1, 10), (21, 40), (41, 80)
GROUPS = ("onboarded", "cold")


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str  # "s", "%", "items", "" (a plain number)
    better: str | None  # "higher", "lower", or None when neither is better (diversity...)


RATIO_METRICS = (
    Metric("watch_per_session", "Watch time per session", "s", "higher"),
    Metric("watch_per_impression", "Watch time per impression", "s", "higher"),
    Metric("session_depth", "Session depth", "items", "higher"),
    Metric("valid_play", "Valid play rate", "%", "higher"),
    Metric("long_view", "Long view rate", "%", "higher"),
    Metric("completion", "Completion rate", "%", "higher"),
    Metric("skip", "Skip rate", "%", None),  # a 60 s watch ending in a swipe is a skip too
    Metric("like", "Like rate", "%", "higher"),
    Metric("share", "Share rate", "%", "higher"),
    Metric("save", "Save rate", "%", "higher"),
    Metric("comment", "Comment rate", "%", "higher"),
    Metric("follow", "Follow rate", "%", "higher"),
    Metric("not_interested", "Not-interested rate", "%", "lower"),
    Metric("strong_negative", "Strong negative rate", "%", "lower"),
    Metric("time_to_personalise", "Time to personalise (restricted mean)", "items", "lower"),
    Metric("personalised", "Personas personalised", "%", "higher"),
    Metric("loved_share", "Share of true top topics", "%", "higher"),
    Metric("loved_share_21_40", "Share of true top topics, impressions 21-40", "%", "higher"),
    Metric("watch_1_10", "Watch time per impression, impressions 1-10", "s", "higher"),
    Metric("watch_41_80", "Watch time per impression, impressions 41-80", "s", "higher"),
    # The engine's estimate of the taste, not the viewer's experience: an unpersonalised feed
    # samples the taste evenly and can estimate it better.
    Metric("profile_accuracy", "Profile accuracy (Spearman)", "", None),
    Metric("intra_list_diversity", "Intra-list diversity", "", None),
    Metric("topic_entropy", "Topic entropy", "bits", None),
    Metric("top_topic_share", "Top-topic share (filter bubble)", "%", None),
    Metric("new_creator_share", "New creators' share of impressions", "%", None),
    Metric("negative_return_20", "Dismissed returning, next 20", "%", "lower"),
    Metric("negative_return_100", "Dismissed returning, next 100", "%", "lower"),
    Metric("dismissed_topic_kept", "Dismissed topic's share kept, next 20", "%", "lower"),
)
# Functions of other metrics' values: shown and written, never bootstrapped.
DERIVED_METRICS = (Metric("watch_lift", "Learning lift (watch 41-80 / 1-10 − 1)", "%", "higher"),)
POPULATION_METRICS = (
    Metric("catalog_coverage", "Catalog coverage", "%", None),
    Metric("creator_coverage", "Creator coverage", "%", None),
    Metric("creator_gini", "Creator exposure Gini", "", None),
)
METRICS = {m.key: m for m in RATIO_METRICS + POPULATION_METRICS + DERIVED_METRICS}
CALIBRATION = {  # KuaiRand-Pure per-impression rates (shared/calibration.md)
    "valid_play": 0.46,
    "long_view": 0.33,
    "like": 0.0185,
    "strong_negative": 0.0005,
}


@dataclass(frozen=True, eq=False)
class Parts:
    """Per-persona numerators and denominators of one ratio metric."""

    num: F64
    den: F64

    @property
    def value(self) -> float:
        total = float(self.den.sum())
        return float(self.num.sum()) / total if total > 0 else float("nan")

    def within(self, personas: npt.NDArray[np.bool_]) -> Parts:
        """The parts of the personas of a mask only."""
        return Parts(self.num[personas], self.den[personas])


@dataclass(frozen=True, eq=False)
class Exposure:
    """Per-persona impression counts of each video and creator, for population metrics."""

    videos: sparse.csr_matrix  # [P, N]
    creators: sparse.csr_matrix  # [P, C]
    eligible: npt.NDArray[np.bool_]  # [N] videos that could have been shown

    def values(self, weights: F64) -> dict[str, F64]:
        """Population metrics for each row of persona weights ([B, P]: one value per row)."""
        videos = np.asarray(self.videos.T @ weights.T)  # [N, B]
        creators = np.asarray(self.creators.T @ weights.T)  # [C, B]
        reached = (videos > 0) & self.eligible[:, None]
        return {
            "catalog_coverage": reached.sum(axis=0) / max(int(self.eligible.sum()), 1),
            "creator_coverage": (creators > 0).mean(axis=0),
            "creator_gini": gini(creators),
        }


@dataclass(frozen=True, eq=False)
class Measures:
    """Everything measured on one arm, for all personas and per group (:data:`GROUPS`)."""

    parts: dict[str, Parts]
    exposure: Exposure
    curves: dict[str, F64]
    pool_reach: F64
    groups: dict[str, npt.NDArray[np.bool_]]  # persona masks by group
    group_curves: dict[str, dict[str, F64]]
    predictions: dict[str, dict[str, Calibration | None]]  # "all" or a group -> action -> figures

    def summary(self, group: str | None = None) -> dict[str, float]:
        """Point estimates of every metric, over all personas or one group's."""
        personas = np.ones(self.exposure.videos.shape[0], bool)
        if group is not None:
            personas = self.groups[group]
        values = {key: p.within(personas).value for key, p in self.parts.items()}
        weights = personas.astype(np.float64)[None, :]
        values |= {k: float(v[0]) for k, v in self.exposure.values(weights).items()}
        early, late = values["watch_1_10"], values["watch_41_80"]
        values["watch_lift"] = late / early - 1.0 if early > 0 else float("nan")
        return values

    def group_sizes(self) -> dict[str, int]:
        return {name: int(mask.sum()) for name, mask in self.groups.items()}


def measure(run: ArmRun, world: World) -> Measures:
    """Compute every metric's parts and curves for one arm."""
    trace, population = run.trace, run.population
    units = population.size
    videos = world.videos
    topic = videos.topic_id[trace["video"]].astype(np.int64)
    loved = population.loved[trace["unit"], topic]
    parts = _rates(trace, world, units)
    parts |= _sessions(trace, units)
    parts |= _personalisation(trace, loved, units)
    parts["profile_accuracy"] = Parts(
        np.nan_to_num(population.accuracy), (~np.isnan(population.accuracy)).astype(float)
    )
    parts["intra_list_diversity"] = _intra_list_diversity(trace, world, units)
    parts["topic_entropy"] = _topic_entropy(trace, topic, len(world.topics), units)
    parts["top_topic_share"] = _top_topic_share(trace, topic, len(world.topics), units)
    parts |= _negative_return(trace, world, units)
    parts |= _windows(trace, loved, units)
    parts["dismissed_topic_kept"] = _dismissed_topic_kept(trace, topic, units)
    groups = population.groups()
    in_group = {name: mask[trace["unit"]] for name, mask in groups.items()}
    return Measures(
        parts=parts,
        exposure=_exposure(trace, world, units),
        curves=_curves(trace, topic, loved, len(world.topics)),
        pool_reach=run.pool_reach,
        groups=groups,
        group_curves={
            name: _curves(trace[rows], topic[rows], loved[rows], len(world.topics))
            for name, rows in in_group.items()
        },
        predictions={
            "all": prediction_quality(trace),
            **{name: prediction_quality(trace[rows]) for name, rows in in_group.items()},
        },
    )


def total(keys: npt.NDArray[np.integer[Any]], weights: npt.ArrayLike, length: int) -> F64:
    """Sum of ``weights`` per key in ``range(length)`` (a weighted bincount, as floats)."""
    sums = np.bincount(keys, weights=np.asarray(weights, dtype=np.float64), minlength=length)
    return sums.astype(np.float64)


def _sum(trace: Trace, values: npt.ArrayLike, units: int) -> F64:
    return total(trace["unit"], values, units)


def _rates(trace: Trace, world: World, units: int) -> dict[str, Parts]:
    duration = world.videos.duration_s[trace["video"]]
    watched = trace["watched_s"]
    flags = {
        "valid_play": np.where(duration <= 7.0, watched >= duration, watched > 7.0),
        "long_view": np.where(duration <= 18.0, watched >= duration, watched >= 18.0),
        "completion": trace["completed"],
        "skip": ~trace["completed"],
        "not_interested": trace["negative"] != NO_NEGATIVE,
        "strong_negative": (trace["negative"] != NO_NEGATIVE) | trace["report"],
        "new_creator_share": world.creators.is_new[world.videos.creator_id[trace["video"]]],
        **{k: trace[k] for k in ("like", "share", "save", "comment", "follow")},
    }
    impressions = _sum(trace, np.ones(len(trace)), units)
    parts = {key: Parts(_sum(trace, flag, units), impressions) for key, flag in flags.items()}
    parts["watch_per_impression"] = Parts(_sum(trace, watched, units), impressions)
    return parts


def _sessions(trace: Trace, units: int) -> dict[str, Parts]:
    """Per session: only sessions with at least one impression count."""
    keys = np.unique(trace["unit"].astype(np.int64) * 65_536 + trace["session"])
    sessions = np.bincount(keys // 65_536, minlength=units).astype(float)
    watched = _sum(trace, trace["watched_s"], units)
    impressions = _sum(trace, np.ones(len(trace)), units)
    return {
        "watch_per_session": Parts(watched, sessions),
        "session_depth": Parts(impressions, sessions),
    }


def _unit_slices(trace: Trace, units: int) -> list[slice]:
    """Rows of each persona (the trace is sorted by unit, then by position)."""
    bounds = np.searchsorted(trace["unit"], np.arange(units + 1))
    return [slice(int(bounds[u]), int(bounds[u + 1])) for u in range(units)]


def _personalisation(trace: Trace, loved: npt.NDArray[np.bool_], units: int) -> dict[str, Parts]:
    time_to = np.zeros(units)
    reached = np.zeros(units)
    for u, rows in enumerate(_unit_slices(trace, units)):
        flags = loved[rows].astype(float)
        if len(flags) < LIST_SIZE:
            time_to[u] = len(flags)
            continue
        rolling = np.convolve(flags, np.ones(LIST_SIZE), mode="valid") / LIST_SIZE
        hits = np.flatnonzero(rolling >= PERSONALISED_SHARE)
        reached[u] = float(len(hits) > 0)
        time_to[u] = hits[0] + LIST_SIZE if len(hits) else len(flags)
    ones = np.ones(units)
    impressions = _sum(trace, np.ones(len(trace)), units)
    return {
        "time_to_personalise": Parts(time_to, (impressions > 0).astype(float)),
        "personalised": Parts(reached, (impressions > 0) * ones),
        "loved_share": Parts(_sum(trace, loved, units), impressions),
    }


def _lists(trace: Trace, by_session: bool) -> tuple[I64, I64]:
    """Group ids of consecutive lists of LIST_SIZE, and each list's persona."""
    position = trace["depth"] if by_session else trace["life"]
    session = trace["session"].astype(np.int64) if by_session else np.zeros(len(trace), np.int64)
    key = (trace["unit"].astype(np.int64) * 65_536 + session) * 100_000 + position // LIST_SIZE
    keys, group = np.unique(key, return_inverse=True)
    return group.astype(np.int64), (keys // 100_000 // 65_536).astype(np.int64)


def _intra_list_diversity(trace: Trace, world: World, units: int) -> Parts:
    group, unit_of = _lists(trace, by_session=True)
    embedding = world.videos.embedding[trace["video"]].astype(np.float64)
    sums = np.zeros((len(unit_of), embedding.shape[1]))
    np.add.at(sums, group, embedding)
    size = np.bincount(group, minlength=len(unit_of)).astype(float)
    norms = (embedding**2).sum(axis=1)
    self_dot = total(group, norms, len(unit_of))
    pairs = size * (size - 1)
    usable = size >= 5  # a list of one or two says nothing about diversity
    mean_cos = ((sums**2).sum(axis=1) - self_dot) / np.maximum(pairs, 1.0)
    diversity = np.where(usable, 1.0 - mean_cos, 0.0)
    return Parts(
        total(unit_of, diversity, units),
        total(unit_of, usable.astype(float), units),
    )


def _topic_counts(unit: npt.NDArray[np.integer], topic: I64, n_topics: int, rows: int) -> F64:
    flat = np.bincount(unit.astype(np.int64) * n_topics + topic, minlength=rows * n_topics)
    return flat.reshape(rows, n_topics).astype(float)


def _topic_entropy(trace: Trace, topic: I64, n_topics: int, units: int) -> Parts:
    counts = _topic_counts(trace["unit"], topic, n_topics, units)
    total = counts.sum(axis=1, keepdims=True)
    share = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    logs = np.log2(share, out=np.zeros_like(share), where=share > 0)
    return Parts(-(share * logs).sum(axis=1), (total[:, 0] > 0).astype(float))


def _top_topic_share(trace: Trace, topic: I64, n_topics: int, units: int) -> Parts:
    group, unit_of = _lists(trace, by_session=False)
    counts = _topic_counts(group, topic, n_topics, len(unit_of))
    return Parts(
        total(unit_of, counts.max(axis=1), units),
        total(unit_of, counts.sum(axis=1), units),
    )


def _negative_return(trace: Trace, world: World, units: int) -> dict[str, Parts]:
    """How much of what a persona dismissed (creator, sound, topic) comes back soon after."""
    videos = world.videos
    columns: dict[int, npt.NDArray[np.integer[Any]]] = {
        SCOPE_CODE["creator"]: videos.creator_id,
        SCOPE_CODE["sound"]: videos.sound_id,
        SCOPE_CODE["topic"]: videos.topic_id,
    }
    parts = {w: (np.zeros(units), np.zeros(units)) for w in RETURN_WINDOWS}
    slices = _unit_slices(trace, units)
    for i in np.flatnonzero(np.isin(trace["negative"], list(columns))).tolist():
        unit = int(trace["unit"][i])
        column = columns[int(trace["negative"][i])]
        target = column[trace["video"][i]]
        for window, (num, den) in parts.items():
            after = trace["video"][i + 1 : min(i + 1 + window, slices[unit].stop)]
            num[unit] += float((column[after] == target).sum())
            den[unit] += len(after)
    return {f"negative_return_{w}": Parts(num, den) for w, (num, den) in parts.items()}


def _windows(trace: Trace, loved: npt.NDArray[np.bool_], units: int) -> dict[str, Parts]:
    """Metrics over fixed stretches of each persona's feed (see :data:`EARLY`...)."""
    impression = trace["life"].astype(np.int64) + 1

    def window(first_last: tuple[int, int]) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = (impression >= first_last[0]) & (
            impression <= first_last[1]
        )
        return result

    loved_window, early, late = window(LOVED_WINDOW), window(EARLY), window(LATE)
    watched = trace["watched_s"]
    return {
        "loved_share_21_40": Parts(
            _sum(trace, loved & loved_window, units), _sum(trace, loved_window, units)
        ),
        "watch_1_10": Parts(_sum(trace, watched * early, units), _sum(trace, early, units)),
        "watch_41_80": Parts(_sum(trace, watched * late, units), _sum(trace, late, units)),
    }


def _dismissed_topic_kept(trace: Trace, topic: I64, units: int) -> Parts:
    """Σ share of a dismissed topic in the next DISMISS_WINDOW items / Σ its share in the
    DISMISS_WINDOW items up to the dismissed one (dismissals with nothing after are left out)."""
    after_share, before_share = np.zeros(units), np.zeros(units)
    slices = _unit_slices(trace, units)
    for i in np.flatnonzero(trace["negative"] == SCOPE_CODE["topic"]).tolist():
        unit = int(trace["unit"][i])
        rows = slices[unit]
        after = topic[i + 1 : min(i + 1 + DISMISS_WINDOW, rows.stop)]
        if len(after) == 0:
            continue
        before = topic[max(rows.start, i + 1 - DISMISS_WINDOW) : i + 1]
        after_share[unit] += float((after == topic[i]).mean())
        before_share[unit] += float((before == topic[i]).mean())
    return Parts(after_share, before_share)


def _exposure(trace: Trace, world: World, units: int) -> Exposure:
    videos = world.videos
    ones = np.ones(len(trace))
    unit = trace["unit"]
    by_video = sparse.csr_matrix((ones, (unit, trace["video"])), shape=(units, len(videos)))
    creator = videos.creator_id[trace["video"]]
    by_creator = sparse.csr_matrix((ones, (unit, creator)), shape=(units, len(world.creators)))
    latest = float(trace["world_t"].max()) if len(trace) else 0.0
    eligible = (videos.published_at <= latest) & ~videos.spam
    return Exposure(videos=by_video, creators=by_creator, eligible=eligible)


def gini(counts: F64) -> F64:
    """Gini coefficient of each column of non-negative counts (0 = equal, 1 = one takes all)."""
    ordered = np.sort(counts, axis=0)
    n = ordered.shape[0]
    total = ordered.sum(axis=0)
    ranks = np.arange(1, n + 1)[:, None]
    weighted = (ranks * ordered).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        result: F64 = np.where(total > 0, (2 * weighted) / (n * total) - (n + 1) / n, 0.0)
    return result


def lorenz(counts: F64) -> tuple[F64, F64]:
    """Lorenz curve of exposure: cumulative share of creators vs of impressions."""
    ordered = np.sort(counts)
    cumulative = np.concatenate([[0.0], np.cumsum(ordered)])
    total = cumulative[-1] if cumulative[-1] > 0 else 1.0
    return np.linspace(0.0, 1.0, len(cumulative)), cumulative / total


def _curves(
    trace: Trace, topic: I64, loved: npt.NDArray[np.bool_], n_topics: int
) -> dict[str, F64]:
    """Means by position in a persona's feed: per CURVE_BUCKET impressions, per list of 10."""
    if len(trace) == 0:
        return {}
    terms = curve_terms(trace, topic, loved, n_topics)
    bucket = terms["watch_per_impression"].position
    by_bucket = _by_position(
        bucket, {k: terms[k].value for k in ("watch_per_impression", "loved_share")}
    )
    lists = terms["top_topic_share"]
    by_list = _by_position(lists.position, {"top_topic_share": lists.value})
    return {
        "position": np.arange(len(by_bucket["count"]), dtype=float) * CURVE_BUCKET,
        "watch_per_impression": by_bucket["watch_per_impression"],
        "loved_share": by_bucket["loved_share"],
        "list_position": np.arange(len(by_list["count"]), dtype=float) * LIST_SIZE,
        "top_topic_share": by_list["top_topic_share"],
    }


@dataclass(frozen=True)
class CurveTerms:
    """What one curve averages: per term (an impression, or a list of 10) its position
    index, its persona and its value. The curve's point at a position is the mean value."""

    position: I64
    unit: I64
    value: F64


# Which of a measured curve's x arrays each curve is drawn against.
CURVE_AXIS = {
    "watch_per_impression": "position",
    "loved_share": "position",
    "top_topic_share": "list_position",
}


def curve_terms(
    trace: Trace, topic: I64, loved: npt.NDArray[np.bool_], n_topics: int
) -> dict[str, CurveTerms]:
    """The terms behind the learning and topic-share curves (:data:`CURVE_AXIS`), so an
    interval can resample their personas.

    Args:
        trace: the rows of the personas drawn.
        topic: each row's video topic.
        loved: whether each row's topic is one of its persona's true top topics.
        n_topics: topics in the world.
    """
    unit = trace["unit"].astype(np.int64)
    bucket = trace["life"].astype(np.int64) // CURVE_BUCKET
    group, unit_of = _lists(trace, by_session=False)
    counts = _topic_counts(group, topic, n_topics, len(unit_of))
    list_index = np.zeros(len(unit_of), dtype=np.int64)
    list_index[group] = trace["life"].astype(np.int64) // LIST_SIZE
    share = counts.max(axis=1) / np.maximum(counts.sum(axis=1), 1.0)
    return {
        "watch_per_impression": CurveTerms(bucket, unit, trace["watched_s"].astype(np.float64)),
        "loved_share": CurveTerms(bucket, unit, loved.astype(np.float64)),
        "top_topic_share": CurveTerms(list_index, unit_of, share),
    }


def _by_position(position: I64, values: dict[str, npt.ArrayLike]) -> dict[str, F64]:
    """Mean of each value per position, up to where fewer than a quarter of the first
    position's rows remain (so a curve's tail is never one persona)."""
    count = np.bincount(position).astype(np.float64)
    last = int(np.flatnonzero(count >= max(1.0, count[0] / 4))[-1]) + 1
    keep = position < last
    means = {
        key: total(position[keep], np.asarray(v)[keep], last) / np.maximum(count[:last], 1)
        for key, v in values.items()
    }
    return {"count": count[:last], **means}
