"""What the engine does not know yet about a viewer, and where it looks because of it.

Affinities say which way a viewer leans; they do not say how sure the engine is. Per topic the
viewer's state keeps counts of evidence on one question, "does a video of this topic hook
this viewer?": *hooked* (held the viewer 7 s or more, watched at least half, to the end,
liked, shared, saved, commented, followed) and *missed* (a swipe within 2 s, where the video
never held the viewer, counts two; "not interested" counts as several). Leaving after 2 s but
before 7 s is one miss: a viewer who stays past the first seconds was held
whatever the video's length: judged by half of a two-minute video, a hooked viewer leaving at
20 s looked like a miss, and the hook, the reaction that most often tells a loved topic from
an indifferent one (a simulated persona is hooked about 0.77 vs 0.42 of the time), was lost.

A miss right after a run of the same topic weighs less (divided by 1 + the topic's viewings
among the viewer's last ten closed): viewers tire of a run, and that skip says "not now" more
than "not this topic". The run is kept in event order (``UserState.closed_topics``), so a
resume or a replay that re-applies the events rebuilds it as it was.

The prior is the population's (:func:`topic_prior`, from the world's background views, so a
fresh world has it too): it weighs two viewings, and its mean, a quarter for a topic with an
even share of the audience (as a typical video hooks about one time in four), grows with the
square root of the topic's audience share (0.43 for comedy, 0.19 for gardening). Viewers'
loved topics follow audience size, so an untried popular topic is probed first. The posterior
is Beta(prior hooks + hooked, prior misses + missed). Without a world (a bare state), the
prior is Beta(0.5, 1.5) for every topic.

Each pick draws one chance per topic from its posterior with the pick's generator (Thompson
sampling): a topic never tried draws anywhere, one swiped away at once three times draws low
(below 0.03 half the time), one watched through and liked draws about 0.6 on average. The
draws decide which topics the explore and interest quotas pull from and scale the engine's
scores (``topic draw`` = (draw / prior mean)², 1 for a topic drawn at the prior mean). A cold
viewer therefore meets many topics early, and the feed narrows as evidence comes in, on skips
alone too.

Untried topics are searched in the population's order (:func:`searched`): only the five likeliest
by the population prior draw, plus one more for each tried topic that missed (its posterior mean
fell below its prior mean); the others keep their prior mean as their draw (their ``topic draw`` is
what the population expects of them, below 1 for a small audience). When every untried topic drew,
the best of thirty-odd drew about 0.8, above a loved topic that had hooked the viewer (~0.6): at
pick 20 the draw's top topic was a loved one in 18% of cold personas' picks against 37% for the
posterior mean (issue 14's cold-start diagnosis). Five drawing, the search goes down the likeliest
topics as the learning ceiling's greedy search does (:mod:`engine.sim.ceiling`); and a viewer whose
popular topics all miss widens it one topic per miss, so the niche ones are reached too (a scripted
viewer who skips everything but two of the world's least watched topics still finds them).
Measured (the personas of ``benchmarks/bench_learning.py``, engine arm alone, 200 x 3 sessions x 3
seeds, main d05fe05 -> this; pick seed 0 / 1): cold loved share of impressions 21-40 0.217 -> 0.256
/ 0.231 -> 0.254, watch per session 469.3 -> 500.5 / 469.0 -> 499.4 s, new creators' share 14.1% ->
12.6% / 13.6% -> 12.5%, onboarded loved share 0.505 -> 0.514; with ``[scoring] completion_prior =
"length"``: 0.190 -> 0.256 / 0.217 -> 0.254, 517.0 -> 535.7 / 506.2 -> 526.3 s, new creators 11.8%
-> 11.5% / 11.9% -> 11.6%. Cold watch lift (impressions 41-80 over 1-10) +47% -> +21% (length +16%
-> +2%): the first ten are watched longer (17.8 -> 21.8 s per impression, pick seed 0), the later
ones about the same (26.1 -> 26.5 s). The scripted no-onboarding viewer (six pairs, mean over pick
seeds 0-2 x starts 0, 1 h, 1 day, as ``benchmarks/bench_learning.py``): 0.656 -> 0.694 (over pick
seeds 0-8, 27 runs: 0.639 -> 0.671), with the length prior 0.647 -> 0.617 (over pick seeds 0-14, 45
runs: 0.661 -> 0.659: one seed-start run moves by ±0.06); its one pair of little-watched topics,
science + cars (35 and 36 of 39), 0.63 -> 0.55 (length 0.54 -> 0.47; over seeds 0-8, 0.63 -> 0.51
and 0.54 -> 0.54). The autopilot's 13 demo personas, cold, loved share of videos 21-30: 0.169 ->
0.315 (length 0.192 -> 0.285).
Tried and dropped (200 x 3 sessions x 1 seed, pick seed 0, main: cold 0.207, 473 s, scripted
0.656): a fixed search of the five likeliest (the diagnosis's ``UNTRIED_DRAWN=5``; 0.281, 508 s,
but the scripted viewer 0.588, science + cars 0.25: the search never gets past the popular topics);
three or eight likeliest plus one per miss (3 x 3 seeds: 0.269 / 499 s, scripted 0.620; 0.250 / 510
s, 0.667 at 1 seed: no better); two per miss (3 seeds, pick seed 0 / 1: 0.259 / 0.281, 504 / 492 s;
length prior 0.240 / 0.256, 538 / 530 s; scripted 0.619, length 0.651, over pick seeds 0-8 0.636
and 0.650 against main's 0.639 and 0.650, science + cars 0.60 and 0.53: as good, kinder to that
pair, worse for the popular ones); widening by every early skip rather than every missed topic
(scripted 0.676, length prior 0.611: as noisy); five sampled afresh every pick in proportion to the
prior mean (power 1: 0.239, 487 s; power 3: 0.214, 478 s: a search that changes every pick is no
search); every untried topic drawing from a prior made heavier with the number of untried topics
(weight x untried / 5: 0.237, 489 s, scripted 0.615; / 10: 0.240, 474 s, 0.675); the explore source
keeping every untried topic's draw (0.256, 516 s, scripted 0.633: the niche pairs no better);
untried topics outside the search drawing at 0.3 of their spread around the prior mean (0.277, 508
s, scripted 0.601) or 0.6 of it (0.221, 481 s, 0.657). With ``settle_after = 20`` as well (200 x 3
x 3, pick seed 0): cold loved share 0.289, onboarded 0.602, but watch per session 499 s, cold watch
per impression 41-80 26.5 -> 24.6 s, scripted 0.650, new creators 12.2%: the trade below, it stays
off.

Measured (the personas of ``benchmarks/bench_learning.py``, the engine arm alone,
200 personas x 3 sessions x 3 seeds, cold personas' loved share of impressions 21-40 / watch
per session of all): main 0.127 / 499 s; with the population prior 0.146 / 506 s; and a 5 s
hold counted as a hook 0.199 / 542 s (3 s: 0.218 / 541 s, 10 s: 0.185 / 541 s); and the
"not now" discount 0.222 / 555 s (onboarded personas 0.41 -> 0.50; 3 s hold with it: 0.228 /
554 s, fewer new creators). The hold is 7 s, KuaiRand's "valid play" (the project's own
metric, :mod:`engine.sim.metrics`), with the discount 0.207 / 534 s: a viewer that stays 6 s
on everything is still a skipper, and with 5 s the personas' valid play rose past the
calibration tolerance (0.52 vs 0.51; 0.507 at 7 s, 0.484 at main).
Leaving after 2 s but before 7 s counted half a hook until issue 14's cold-start work; now half a
miss (:data:`PARTIAL_MISSES`). As one miss, same personas (200 x 3 sessions x 3 seeds, main vs it):
cold loved share 0.203 -> 0.230, cold watch per session 413 -> 422 s, cold watch per impression 1-10
-> 41-80 +37% -> +48%, new creators' share (onboarded / cold) 9.3% / 11.8% -> 10.0% / 13.2%;
onboarded loved share 0.513 -> 0.485 and watch 553 -> 544 s (within the noise); the autopilot's 13
demo personas, cold, loved share of videos 21-30 0.115 -> 0.177. Half a miss instead: cold 0.223,
419 s, +46%; onboarded 0.495, 552 s (a reaction's likelihood ratio, loved vs indifferent topic,
makes the partial worth about one miss).
Tried and dropped in that work (cold loved share, main 0.196-0.203; "1 seed" = 200 x 3 x 1):
hooks weighed by how unlikely the video was to hook anyone (from its background like and
completion rates: a hook on a video everyone watches says little about its topic; 0.174, 1
seed); a population prior mean of 0.4 (0.233, 1 seed; with a 0.7 per-topic share of the
interest quota, 0.204, 3 seeds); that 0.7 share alone (0.238, 3 seeds, onboarded watch -23 s;
with the one-miss partial 0.230, no gain); twice the early exploration (``cold_start_explore``
0.5 over 12 videos: 0.191, 1 seed); greedy from the first pick (``settle_after = 1``: picks 1-20
stay on ~6 topics, 0.218; 0.251 with the one-miss partial but new creators 5-9%); greedy and
sharp (``DRAW_POWER`` 5, ``topic_cap`` 10): 0.28-0.31, but watch per session 410 -> 317-352 s,
the personas tire of one topic; a two-class posterior (loved or not, each reaction's
likelihood ratio) ranking topics once settled at 20: 0.252, onboarded 0.61, 3 seeds, but cold
lift +31% and new creators 8.4%.
Tried and dropped before: starter probes of the untried topics while they hold half the audience
(0.195 vs 0.199, fewer new creators); explore probes drawn from well-completed videos (0.222
vs 0.228, 545 vs 554 s); a prior mean of 0.35 (0.185); sharper draws, DRAW_POWER 3 (0.196,
525 s); half of each explore topic's probes from new creators' uploads (with the 7 s hold: new
creators' share of impressions 0.083 -> 0.124, watch 534 -> 552 s, loved share the same, but
the scripted viewer's booktok+gaming pair fell to 0.5 and a followed creator's new upload no
longer surfaced in tests/test_engine_invariants.py).

``rerank.settle_after`` (0, off, by default) stops the sampling once a viewer has seen that many
videos: the scores and the interest source then rank topics by their posterior mean (greedy),
only the explore source still chooses its topics by the draws. The learning ceiling
(:mod:`engine.sim.ceiling`) is greedy after 20, and traced cold personas' picks 21-40 on main
spread over ~9 topics (26% on the topic with the best evidence at pick 20, 58% on topics the
persona is indifferent to; ``python -m benchmarks.trace_cold_picks``). Measured (200 personas x
3 sessions x 3 seeds, engine arm, main vs ``settle_after = 20``): cold loved share of
impressions 21-40 0.207 -> 0.235, onboarded 0.491 -> 0.597, but cold watch per impression 41-80
28.3 -> 24.8 s (lift +41.5% -> +24.0%), new creators' share 10.6% -> 8.9%, watch per session 533
-> 520 s: greedy stops cold viewers finding the loved topics not tried by then (only 37% of them
are shown by pick 20). With the draw's departure from the mean halved instead (0.227, lift
+31.6%, 9.3%, 534 s) or with DRAW_POWER 3 as well (0.241, lift +24.1%, 8.8%, 533 s) the trade is
the same: it stays off. Those figures predate the debut slot; re-measured since (pick seeds 0 /
1): cold loved share 0.217 -> 0.269 / 0.231 -> 0.260, watch per session 469.3 -> 469.1 /
469.0 -> 459.7 s, the scripted two-topic viewer 0.76 -> 0.73.

The counts are a deterministic function of the viewer's events (updated in the event path,
so a resume or a replay rebuilds them); the draws come from the pick's generator before the
slate is built, so a logged propensity is the exact probability of the shown video *given the
pick's draws*, which replay reproduces.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from engine.world import World

if TYPE_CHECKING:  # profile calls seed_evidence, so only the type comes from there
    from engine.profile import UserState

F64 = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]

HOOKED_FRACTION = 0.5  # watched at least this share of a video: it held the viewer
POSITIVE_KINDS = frozenset({"like", "share", "save", "comment", "follow"})
UNDONE_KINDS = frozenset({"unlike", "unsave", "unfollow"})
NOT_INTERESTED_MISSES = 10.0  # "not interested" in a topic is worth this many early skips
EARLY_SKIP_S = 2.0  # left before this: the video never held the viewer at all
# ... which says more than leaving part-way. Measured with the partial half-hook (before
# PARTIAL_MISSES): the scripted cold viewer's loved share of picks 21-50 (six pairs, five
# start times) 0.62 / 0.68 / 0.69 at one / two / three misses; simulated personas' watch per
# session (200 x 1 seed) 277 / 269 / 252 s at one / two / (three, without the half-hook)
# misses: two is the compromise.
EARLY_SKIP_MISSES = 2.0
# A viewing left after EARLY_SKIP_S but before HELD_S (and before half the video) is half a miss,
# a quarter of an early skip's weight. It used to count half a hook and half a miss, for a hooked
# viewer leaving a long video part-way; since HELD_S that viewer counts as hooked, and what is
# left in between is mostly a patient glance: traced cold personas leave this way 14% of the time
# on a loved topic and 25% on an indifferent one, so it is evidence against the topic. As half a
# hook it lifted an indifferent topic's long-run mean (~0.33) above an untried topic's prior
# (~0.25), so topics only glanced at for a few seconds kept coming back (issue 14's cold start).
# Half a miss rather than one: nearly all of one miss's gain for cold viewers, without most of its
# cost for onboarded ones (figures in the module docstring).
PARTIAL_MISSES = 0.5
# A viewing that lasted this long held the viewer: a hook, whatever the video's length (a
# glance lasts a second or two; KuaiRand counts a "valid play" beyond 7 s).
HELD_S = 7.0
ONBOARDING_HOOKS = 2.0  # a topic chosen at sign-up starts as if watched through twice
DRAW_FLOOR = 0.05  # the lowest topic-draw multiplier: never exactly zero
DRAW_POWER = 2.0  # sharpens the draws: a topic drawn at 0.5 counts 4 times one at 0.25
# A prior worth two viewings, half a hook and one and a half misses: one skip moves it, and
# of forty untried topics one always draws high (measured: loved share of a cold viewer's
# picks 21-50, 0.81 with it, 0.61 with Beta(1, 3), 0.71 with Beta(1, 1)).
PRIOR_HOOKED, PRIOR_MISSED = 0.5, 1.5
PRIOR_MEAN = PRIOR_HOOKED / (PRIOR_HOOKED + PRIOR_MISSED)
PRIOR_WEIGHT = PRIOR_HOOKED + PRIOR_MISSED
# The population prior: a topic's prior mean is PRIOR_MEAN x (its share of the world's
# background views / an even share) ** AUDIENCE_POWER, the share first shrunk halfway toward
# an even one, clipped to PRIOR_MEAN_RANGE (comedy 0.43, gardening 0.19).
AUDIENCE_POWER = 0.5
AUDIENCE_SHRINK = 0.5
PRIOR_MEAN_RANGE = (0.1, 0.5)
# A skip of a topic the viewer has just seen several times says "not now" more than "not this
# topic" (viewers tire of a run of one topic): its misses are divided by 1 + this x the
# topic's viewings among the viewer's last REPEAT_WINDOW closed.
REPEAT_DISCOUNT = 1.0
REPEAT_WINDOW = 10
# Untried topics are searched in the population's order: only the UNTRIED_DRAWN likeliest ones
# (by the population prior) draw, plus one more for each tried topic that missed (its posterior
# mean fell below its prior mean); the others draw their prior mean (figures in the module
# docstring). Of forty untried topics one always draws high, above a loved topic that hooked
# the viewer; of five, seldom. None: every untried topic draws (the engine before issue 14's
# ordered search).
UNTRIED_DRAWN: int | None = 5


@dataclass(frozen=True, eq=False)
class TopicPrior:
    """What the engine expects, per topic, of a viewer it knows nothing about."""

    audience: F64  # [T] the topic's share of the world's audience (sums to 1)
    hooked: F64  # [T] prior pseudo-hooks
    missed: F64  # [T] prior pseudo-misses (hooked + missed = PRIOR_WEIGHT)

    @property
    def mean(self) -> F64:
        """The prior chance of being hooked, per topic."""
        result: F64 = self.hooked / (self.hooked + self.missed)
        return result

    @cached_property
    def likeliest(self) -> npt.NDArray[np.intp]:
        """The topics by prior mean, highest first (ties in topic order)."""
        return np.argsort(-self.mean, kind="stable")

    @cached_property
    def rank(self) -> npt.NDArray[np.intp]:
        """Each topic's place in :attr:`likeliest`."""
        rank = np.empty_like(self.likeliest)
        rank[self.likeliest] = np.arange(len(rank))
        return rank


_PRIORS: weakref.WeakKeyDictionary[World, TopicPrior] = weakref.WeakKeyDictionary()


def topic_prior(world: World) -> TopicPrior:
    """The population's prior per topic, built once per world from its background views: a
    topic with a bigger audience is likelier to be one a new viewer loves, so it starts with a
    higher chance of hooking and an untried popular topic is probed first. Static, so a replay
    or a resume draws from the same prior."""
    prior = _PRIORS.get(world)
    if prior is None:
        n = len(world.topics)
        views = np.bincount(
            world.videos.topic_id, weights=world.stats.views.astype(np.float64), minlength=n
        )
        total = float(views.sum())
        share = views / total if total > 0 else np.full(n, 1.0 / n)
        audience = (1.0 - AUDIENCE_SHRINK) * share + AUDIENCE_SHRINK / n
        mean = np.clip(PRIOR_MEAN * (audience * n) ** AUDIENCE_POWER, *PRIOR_MEAN_RANGE)
        prior = TopicPrior(audience, PRIOR_WEIGHT * mean, PRIOR_WEIGHT * (1.0 - mean))
        _PRIORS[world] = prior
    return prior


def held(watched_s: float, duration_s: float, *, completed: bool) -> bool:
    """Whether a closed viewing held the viewer: finished, half watched, or :data:`HELD_S` long
    (the one definition of a hook, shared with :mod:`engine.taste`)."""
    return completed or watched_s >= HOOKED_FRACTION * max(duration_s, 1e-6) or watched_s >= HELD_S


def note_outcome(
    state: UserState,
    topic: int,
    kind: str,
    *,
    watched_s: float,
    duration_s: float,
    first_close: bool,
    scope: str | None = None,
    repeats: int = 0,
) -> None:
    """Count one event as evidence about the viewer's chance of being hooked by ``topic``.

    Args:
        first_close: the event closes its viewing for the first time (a loop left running
            closes it again, and says nothing new).
        scope: the scope of a "not interested".
        repeats: how many of the viewer's last closed viewings before this one were of
            ``topic``: a skip after a run of one topic says "not now" more than "not this
            topic".
    """
    if kind in ("complete", "skip"):
        if not first_close:
            return
        hooked = held(watched_s, duration_s, completed=kind == "complete")
        not_now = 1.0 + REPEAT_DISCOUNT * repeats
        if hooked:
            state.topic_hooked[topic] += 1.0
        elif watched_s < EARLY_SKIP_S:
            state.topic_missed[topic] += EARLY_SKIP_MISSES / not_now
        else:
            state.topic_missed[topic] += PARTIAL_MISSES / not_now
    elif kind in POSITIVE_KINDS:
        state.topic_hooked[topic] += 1.0
    elif kind in UNDONE_KINDS:
        state.topic_hooked[topic] = max(0.0, float(state.topic_hooked[topic]) - 1.0)
    elif kind == "not_interested":
        state.topic_missed[topic] += NOT_INTERESTED_MISSES if scope == "topic" else 1.0


def seed_evidence(state: UserState) -> None:
    """Onboarding choices start as evidence, everything else as none."""
    state.topic_hooked[:] = 0.0
    state.topic_missed[:] = 0.0
    if state.interests:
        state.topic_hooked[np.array(state.interests, dtype=np.int64)] = ONBOARDING_HOOKS


def posterior(state: UserState, prior: TopicPrior | None = None) -> tuple[F64, F64]:
    """The two parameters of each topic's Beta posterior: the viewer's evidence on the prior
    (the population's, :func:`topic_prior`, or Beta(PRIOR_HOOKED, PRIOR_MISSED) for all)."""
    hooked = state.topic_hooked.astype(np.float64)
    missed = state.topic_missed.astype(np.float64)
    if prior is None:
        return PRIOR_HOOKED + hooked, PRIOR_MISSED + missed
    return prior.hooked + hooked, prior.missed + missed


def posterior_mean(state: UserState, prior: TopicPrior | None = None) -> F64:
    """The expected chance of being hooked, per topic."""
    alpha, beta = posterior(state, prior)
    result: F64 = alpha / (alpha + beta)
    return result


def draw_topics(state: UserState, rng: np.random.Generator, prior: TopicPrior | None = None) -> F64:
    """One Thompson draw per topic from its posterior (uses ``rng`` once, for every topic).

    With the population prior, an untried topic outside the search (:func:`searched`) keeps
    its prior mean instead of its draw: its ``topic draw`` multiplier is then (its prior mean /
    the even prior mean)², what the population expects of it.
    """
    return draw_topics_many([state], [rng], prior)[0]


def draw_topics_many(
    states: Sequence[UserState], rngs: Sequence[np.random.Generator], prior: TopicPrior | None
) -> list[F64]:
    """:func:`draw_topics` for several viewers (each the same number of topics), each from its
    own generator: the posteriors and the searched topics of all of them in a few calls (one
    row per viewer; a single viewer's are its own vectors, the same steps along one axis)."""
    one = len(states) == 1
    if one:
        hooked, missed = states[0].topic_hooked, states[0].topic_missed
    else:
        hooked = np.stack([s.topic_hooked for s in states])
        missed = np.stack([s.topic_missed for s in states])
    alpha = (PRIOR_HOOKED if prior is None else prior.hooked) + hooked.astype(np.float64)
    beta = (PRIOR_MISSED if prior is None else prior.missed) + missed.astype(np.float64)
    if one:
        draws: F64 = rngs[0].beta(alpha, beta)
    else:
        draws = np.stack([rng.beta(a, b) for rng, a, b in zip(rngs, alpha, beta, strict=True)])
    if prior is not None and UNTRIED_DRAWN is not None:
        unknown = (hooked + missed) == 0
        mean = prior.mean
        waiting = unknown & ~_searched_rows(unknown, alpha / (alpha + beta), prior, mean)
        draws = np.where(waiting, mean, draws)
    return [draws] if one else list(draws)


def _searched_rows(unknown: Mask, posterior: F64, prior: TopicPrior, mean: F64) -> Mask:
    """:func:`searched` of one viewer or several (one row each), given the untried topics, the
    posterior means and the prior ``mean``, with :data:`UNTRIED_DRAWN` set."""
    assert UNTRIED_DRAWN is not None
    missed = ~unknown & (posterior < mean)
    # One viewer's row is counted without an axis: numpy's C count (0.5 us), where an axis
    # makes count_nonzero sum a bool copy (5 us).
    width = UNTRIED_DRAWN + (
        np.count_nonzero(missed) if missed.ndim == 1 else np.count_nonzero(missed, axis=-1)
    )
    # The untried topics in the prior's order (stable, as :func:`searched` sorts them): the
    # first ``width`` of each row are searched.
    in_order = unknown[..., prior.likeliest]
    first = in_order & (np.cumsum(in_order, axis=-1) <= np.asarray(width)[..., None])
    searched: Mask = first[..., prior.rank]
    return searched


def untried(state: UserState) -> npt.NDArray[np.bool_]:
    """The topics the viewer has given no evidence on yet (neither hooked nor missed)."""
    result: npt.NDArray[np.bool_] = (state.topic_hooked + state.topic_missed) == 0
    return result


def searched(state: UserState, prior: TopicPrior) -> npt.NDArray[np.bool_]:
    """The untried topics a pick's draw may probe: the :data:`UNTRIED_DRAWN` likeliest by the
    population prior, and one more for each tried topic that missed (its posterior mean below
    its prior mean), so a viewer whose popular topics all miss reaches the niche ones (every
    untried topic with :data:`UNTRIED_DRAWN` None)."""
    unknown = untried(state)
    if UNTRIED_DRAWN is None:
        return unknown
    missed = ~unknown & (posterior_mean(state, prior) < prior.mean)
    width = UNTRIED_DRAWN + int(np.count_nonzero(missed))
    candidates = np.flatnonzero(unknown)
    likeliest = candidates[np.argsort(-prior.mean[candidates], kind="stable")[:width]]
    result = np.zeros(len(unknown), dtype=bool)
    result[likeliest] = True
    return result


def settled(state: UserState, draws: F64, after: int, prior: TopicPrior | None = None) -> F64:
    """What a pick ranks topics by: its draws, or each topic's posterior mean once the viewer
    has seen ``after`` videos (``after`` = 0: always the draws; see the module docstring).

    The draws are taken either way, so the generator advances the same and the explore
    source, which keeps choosing its topics by the draws, still samples.
    """
    if after <= 0 or len(state.seen) < after:
        return draws
    return posterior_mean(state, prior)


def draw_multiplier(draws: F64, topics: npt.NDArray[np.integer], raised: Sequence[int] = ()) -> F64:
    """The score multiplier of each candidate's topic: (its draw / the prior mean)².

    Args:
        raised: topics the viewer turned up with a slider: "more of this" is an explicit
            claim, so they draw as high as the best topic (and the slider then scales them).
    """
    raised_draws = with_raised(draws, raised)
    return draw_multiplier_rows(raised_draws[None, :], np.zeros(len(topics), np.int64), topics)


def with_raised(draws: F64, raised: Sequence[int]) -> F64:
    """The draws with the topics a slider raised set to the best draw."""
    if len(raised):
        draws = draws.copy()
        draws[np.asarray(raised, dtype=np.int64)] = draws.max()
    return draws


def draw_multiplier_rows(
    draws: F64, viewer: npt.NDArray[np.integer], topics: npt.NDArray[np.integer]
) -> F64:
    """:func:`draw_multiplier` of candidates of several viewers: ``draws`` has one row per
    viewer (raised already), ``viewer`` says whose each candidate is."""
    result: F64 = np.maximum(DRAW_FLOOR, (draws[viewer, topics] / PRIOR_MEAN) ** DRAW_POWER)
    return result
