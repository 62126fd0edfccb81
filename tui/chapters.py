"""The tour's eight chapters: each a claim about the For You feed, shown on the live feed.

A chapter is data and two small functions: what the caption bar tells the audience to watch
for, what it sets going when it begins (a panel, the crowd, a boost, a press for the pilot),
the evidence it waits for (a predicate over the live session: the engine's state, the receipts
of the picks, the recorded reactions) and the one-line takeaway shown once that evidence is on
screen. Nothing here keeps a feed of its own: every chapter reads the presenter's
:class:`~tui.session.FeedSession` and the engine's public API, and the tour
(:mod:`tui.tour`) runs them in order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine import Discover, Engine, Recommendation
from engine.api import PoolStatus
from engine.sources import Source, short_words, why_words
from engine.text import printable
from tui.screens.discover import velocity_text
from tui.session import FeedSession, into_topics, muted_topics
from tui.tour_pilot import Request

if TYPE_CHECKING:
    from tui.tour import Tour

RECENT = 10  # chapter 2: the loved share of the last 10 videos
TURNED = 6  # ... turns the feed once 6 of them are the loved topics
AFTER_MUTE = 20  # chapter 3: videos counted after "not interested"
FIRST_PICKS = 3  # chapter 1: the first picks whose sources are read
# A learned profile scores its own topics ~50 and a stranger's video ~0.5: ×1000 outbids them.
BOOST_WEIGHT = 1000.0
BOOST_AGAIN = 10.0  # a boost that did not arrive is followed by one this many times harder
TRENDING_BOOSTABLE = 50  # trending videos the operator chooses among
BOOST_S = 900.0  # world seconds the tour's boost lasts (written to the file: kept short)
BOOST_REASON = "foryou tour: an operator boost, to show heating"
BOOST_BY = "foryou tour"
BOOST_PATIENCE = 6  # picks a boosted video gets to arrive before another is boosted
TREND_TOP = 10  # Discover's top: where a trend must rise to
TREND_WATCHED = 30  # ranks followed, so a trend entering the top is shown from where it was
TREND_PATIENCE = 8  # paces chapter 6 waits for a trend to climb before a gain per hour will do
BAR = 12  # cells of a pool's reach bar


@dataclass
class Shown:
    """Evidence on screen: what it showed, in one line (also the tour's log)."""

    detail: str


@dataclass
class Counter:
    """A number for the caption bar's large numerals, and what it counts."""

    value: int
    label: str


@dataclass
class Chapter:
    """One claim of the tour.

    Attributes:
        title: Its name in the caption bar.
        caption: What to watch for.
        takeaway: The line shown once the evidence is on screen.
        begin: Sets the chapter going (panels, the crowd, a boost, a press for the pilot).
        evidence: The evidence on screen now, or None while it is awaited.
        counter: The number the caption bar shows in large numerals, if any.
        status: Live lines under the caption while waiting (a pool's reach, a trend).
        me: What the presenter presses, when they drive (``--me``).
        reveal: On autopilot, what opens once the evidence is found (Discover), so the
            audience sees it where the claim says.
        crowd: The crowd of simulated viewers watches while the chapter waits.
    """

    title: str
    caption: str
    takeaway: str
    begin: Callable[[Tour], None]
    evidence: Callable[[Tour], Shown | None]
    counter: Callable[[Tour], Counter | None] = lambda tour: None
    status: Callable[[Tour], str] = lambda tour: ""
    me: str = "just watch"
    reveal: Callable[[Tour], None] | None = None
    crowd: bool = False


@dataclass
class Notes:
    """What the chapters remember while they run (reset when a chapter begins)."""

    start: int = 0  # index in the session's history where the chapter began
    muted: str | None = None  # chapter 3: the topic marked "not interested"
    muted_at: int | None = None  # ... and the history index it was marked at
    followed: int | None = None  # chapter 4: the new creator's upload followed
    # ... new creators' uploads served from their first pool meanwhile, and that pool's number
    fresh_seen: dict[int, int] = field(default_factory=dict)
    trends: dict[str, tuple[int, float]] = field(default_factory=dict)  # chapter 6: rank, v/h
    boosted: int | None = None  # chapter 7: the video the tour boosted
    extra: dict[str, Any] = field(default_factory=dict)


# -- 1 · onboarding -----------------------------------------------------------------------------


def _onboarding_evidence(tour: Tour) -> Shown | None:
    first = tour.session.history[:FIRST_PICKS]
    if tour.session.index + 1 < FIRST_PICKS:
        return None
    # On the chosen topics and proposed from them: the interest source also proposes videos
    # merely close to them in embedding space, which would not show what the sign-up did.
    chosen = set(tour.engine.profile(tour.session.user_id).interests)
    from_interests = [
        rec for rec in first if Source.INTEREST in rec.receipt.sources and rec.video.topic in chosen
    ]
    if not from_interests or tour.session.index < 0:
        return None
    topics = sorted({rec.video.topic_name for rec in from_interests})
    return Shown(
        f"{len(from_interests)} of the first {len(first)} picks from your interests "
        f"({printable(', '.join(topics))})"
    )


# -- 2 · interactions ---------------------------------------------------------------------------


def _loved_count(tour: Tour) -> int:
    recent = tour.session.history[: tour.session.index + 1][-RECENT:]
    return sum(rec.video.topic in tour.loved() for rec in recent)


def _interactions_evidence(tour: Tour) -> Shown | None:
    watched = tour.session.index + 1 - tour.notes.start
    loved = _loved_count(tour)
    if watched < RECENT // 2 or loved < TURNED:
        return None
    names = tour.loved_names()
    return Shown(f"{loved} of the last {RECENT} are {names} after {watched} videos")


def _interactions_counter(tour: Tour) -> Counter:
    return Counter(_loved_count(tour), f"of the last {RECENT}: {tour.loved_names()}")


# -- 3 · not interested -------------------------------------------------------------------------


def _mute_begin(tour: Tour) -> None:
    tour.notes.extra["muted_before"] = set(muted_topics(tour.session.profile()))
    if tour.pilot is not None:
        loved = tour.loved()
        tour.pilot.queue(
            Request("not_interested", "n", "nope", "topic", suits=lambda t: t not in loved)
        )


def _mute_progress(tour: Tour) -> tuple[str, int, int] | None:
    """(topic slug, appearances since, videos since) once a topic is marked, else None."""
    notes = tour.notes
    if notes.muted is None:
        new = set(muted_topics(tour.session.profile())) - notes.extra.get("muted_before", set())
        if not new:
            return None
        notes.muted, notes.muted_at = sorted(new)[0], tour.session.index
    assert notes.muted_at is not None
    after = tour.session.history[notes.muted_at + 1 : tour.session.index + 1][:AFTER_MUTE]
    return notes.muted, sum(rec.video.topic == notes.muted for rec in after), len(after)


def _mute_evidence(tour: Tour) -> Shown | None:
    progress = _mute_progress(tour)
    if progress is None or progress[2] < AFTER_MUTE or progress[1]:
        return None
    topic, _, _ = progress
    return Shown(f"{tour.label(topic)}: 0 of the next {AFTER_MUTE} videos after 'not interested'")


def _mute_counter(tour: Tour) -> Counter | None:
    progress = _mute_progress(tour)
    if progress is None:
        return None
    topic, seen, since = progress
    return Counter(seen, f"{tour.label(topic)} in the next {since} of {AFTER_MUTE}")


# -- 4 · test pools -----------------------------------------------------------------------------


def note_fresh(tour: Tour, rec: Recommendation) -> None:
    """A pick served anywhere (the presenter's or the crowd's): chapter 4 follows the new
    creators' uploads the test pools serve, from the first pool on."""
    if rec.source != Source.FRESH or not tour.by_new_creator(rec.video.creator_id):
        return
    status = tour.engine.pool_status(rec.video.id)
    if status.stage == 0 and rec.video.id not in tour.notes.fresh_seen:
        tour.notes.fresh_seen[rec.video.id] = status.stage
    follow_the_furthest(tour)


def follow_the_furthest(tour: Tour) -> None:
    """Follow the upload furthest along of those the chapter saw enter their first pool (the
    caption shows one; any of them that climbs is the evidence)."""
    statuses = [tour.engine.pool_status(v) for v in tour.notes.fresh_seen]
    alive = [s for s in statuses if s.state != "stopped"]
    if alive:
        tour.notes.followed = max(alive, key=lambda s: (s.stage, s.viewers)).video_id


def pool_reach(status: PoolStatus) -> list[tuple[int, int, int]]:
    """(pool, viewers reached, its size) for every pool the video has reached so far: a pool
    it climbed out of was full (its size for today's audience)."""
    return [
        (
            stage,
            status.sizes[stage] if stage < status.stage else status.viewers,
            status.sizes[stage],
        )
        for stage in range(status.stage + 1)
    ]


def pool_lines(status: PoolStatus) -> list[str]:
    """A bar per pool the video reached: its viewers out of the pool's size."""
    lines = []
    for stage, reached, size in pool_reach(status):
        reached = min(reached, size)
        filled = round(BAR * reached / size) if size else 0
        mark = " ✓ climbed" if stage < status.stage else ""
        if stage == status.stage and status.state != "testing":
            mark = f" {status.state}"
        lines.append(f"pool {stage} {'█' * filled}{'░' * (BAR - filled)} {reached}/{size}{mark}")
    return lines


def _pools_status(tour: Tour) -> str:
    followed = tour.notes.followed
    if followed is None:
        return f"the crowd: {tour.crowd_picks()} videos watched; waiting for a new creator's upload"
    video, status = tour.engine.video(followed), tour.engine.pool_status(followed)
    head = printable(
        f"@{video.creator_handle} (new creator, no views before) · {video.topic_name} · "
        f"{video.views} views"
    )
    return "\n".join([head, *pool_lines(status)])


def _pools_evidence(tour: Tour) -> Shown | None:
    follow_the_furthest(tour)
    followed = tour.notes.followed
    if followed is None:
        return None
    status = tour.engine.pool_status(followed)
    if status.stage < 1:
        return None
    video = tour.engine.video(followed)
    reach = " → ".join(f"pool {k} {n}/{size}" for k, n, size in pool_reach(status))
    return Shown(
        printable(f"@{video.creator_handle}'s upload climbed to pool {status.stage}: {reach}")
    )


def _pools_counter(tour: Tour) -> Counter | None:
    followed = tour.notes.followed
    if followed is None:
        return None
    status = tour.engine.pool_status(followed)
    return Counter(
        status.viewers, f"viewers in pool {status.stage} of {status.sizes[status.stage]}"
    )


# -- 5 · exploration ----------------------------------------------------------------------------


def _explore_begin(tour: Tour) -> None:
    tour.show_xray()


def _explore_evidence(tour: Tour) -> Shown | None:
    current = tour.session.current
    if current is None or Source.EXPLORE not in current.receipt.sources:
        return None
    if tour.session.index < tour.notes.start:
        return None
    return Shown(
        printable(
            f"{current.video.topic_name}, 'from {short_words(Source.EXPLORE)}': "
            f"{why_words(Source.EXPLORE)}"
        )
    )


def _explore_counter(tour: Tour) -> Counter:
    return Counter(tour.session.index + 1 - tour.notes.start, "videos until an exploration pick")


# -- 6 · trending -------------------------------------------------------------------------------


def trend_ranks(discover: Discover) -> dict[str, tuple[int, float]]:
    """Each trending hashtag and sound: its rank in Discover and its velocity per hour."""
    ranks = {}
    for trends in (discover.hashtags, discover.sounds):
        for rank, trend in enumerate(trends, 1):
            ranks[trend.name] = (rank, trend.velocity)
    return ranks


def _trends_begin(tour: Tour) -> None:
    tour.notes.trends = trend_ranks(tour.engine.discover(TREND_WATCHED))


def rising(
    before: dict[str, tuple[int, float]], now: dict[str, tuple[int, float]], *, climbed_only: bool
) -> str | None:
    """The trend that rose most since `before`: up in rank or into the top, else (unless
    `climbed_only`) the largest gain per hour; None if nothing rose."""
    best: tuple[float, str] | None = None
    for name, (rank, velocity) in now.items():
        if rank > TREND_TOP:
            continue
        was_rank, was_velocity = before.get(name, (TREND_WATCHED + 1, 0.0))
        climbed, gained = was_rank - rank, velocity - was_velocity
        if climbed <= 0 and (climbed_only or gained < 1.0):
            continue
        line = printable(
            f"{name}: {_place(was_rank)} → {_place(rank)}, "
            f"{velocity_text(was_velocity)} → {velocity_text(velocity)} ({gained:+.0f}/h)"
        )
        weight = climbed * 1e6 + gained
        if best is None or weight > best[0]:
            best = (weight, line)
    return None if best is None else best[1]


def _place(rank: int) -> str:
    return f"#{rank}" if rank <= TREND_WATCHED else f"below #{TREND_WATCHED}"


def _trends_evidence(tour: Tour) -> Shown | None:
    # A climb in the ranking reads best from the back of the room; a gain per hour is the
    # fallback once the chapter has waited TREND_PATIENCE paces for one.
    patient = tour.chapter_seconds() < TREND_PATIENCE * tour.pace_s
    now = trend_ranks(tour.engine.discover(TREND_WATCHED))
    line = rising(tour.notes.trends, now, climbed_only=patient)
    return None if line is None else Shown(f"rising in Discover: {line}")


# -- 7 · heating --------------------------------------------------------------------------------


def _heat_begin(tour: Tour) -> None:
    tour.notes.boosted = tour.boost_a_video(BOOST_WEIGHT)
    tour.notes.extra["weight"] = BOOST_WEIGHT
    if tour.pilot is not None:  # on any boosted pick (an earlier tour's boost may still hold)
        tour.pilot.queue(Request("why", "w", "why", suits=lambda _: tour.current_boosted()))


def _heat_waited(tour: Tour) -> None:
    """A boosted video a filter of this viewer's keeps out (spam, a keyword) never arrives, and
    one the learned profile scores very low may take long: after :data:`BOOST_PATIENCE` picks
    without it the operator boosts another, :data:`BOOST_AGAIN` times harder."""
    notes = tour.notes
    since = tour.session.history[notes.start + 1 : tour.session.index + 1]
    if notes.boosted is None or any(rec.video.id == notes.boosted for rec in since):
        return
    if len(since) >= notes.extra.get("patience", BOOST_PATIENCE):
        notes.extra["patience"] = len(since) + BOOST_PATIENCE
        notes.extra["weight"] *= BOOST_AGAIN
        notes.boosted = tour.boost_a_video(notes.extra["weight"])


def _heat_evidence(tour: Tour) -> Shown | None:
    _heat_waited(tour)
    current = tour.session.current
    if current is None or current.receipt.boost is None or not tour.why_on_screen():
        return None
    boost = current.receipt.boost
    return Shown(
        printable(
            f"why this video: BOOSTED ×{boost['weight']:g} by {boost['by']} "
            f"({current.video.topic_name}, @{current.video.creator_handle})"
        )
    )


def _heat_status(tour: Tour) -> str:
    boosted = tour.notes.boosted
    if boosted is None:
        return ""
    video = tour.engine.video(boosted)
    arrived = any(rec.video.id == boosted for rec in tour.session.history[tour.notes.start :])
    where = "arrived: the why screen says so" if arrived else "waiting for it in the feed"
    return printable(
        f"boosted ×{tour.notes.extra['weight']:g}: @{video.creator_handle}'s "
        f"{video.topic_name} video, {where}"
    )


# -- 8 · the end --------------------------------------------------------------------------------


def _end_begin(tour: Tour) -> None:
    tour.show_debrief()


def _end_evidence(tour: Tour) -> Shown | None:
    debrief = tour.debrief_on_screen()
    if debrief is None:
        return None
    moved = sum(any(abs(v) > 0.005 for v in values) for values in debrief.trajectory.values())
    if not moved:
        return None
    top = into_topics(debrief.assumed, 2)
    names = ", ".join(f"{tour.label(t)} {a:.2f}" for t, a in top)
    return Shown(f"{len(debrief.points)} videos, {moved} topics' trajectories; into {names}")


def chapters() -> list[Chapter]:
    """The tour, in order."""
    return [
        Chapter(
            "1 · Onboarding seeds the first videos",
            "the first videos' source, under their caption: the topics chosen at sign-up.",
            "The interests chosen at sign-up pick the first videos: 'from your interests'.",
            lambda tour: None,
            _onboarding_evidence,
        ),
        Chapter(
            "2 · What you do weighs most",
            "The viewer finishes and likes two topics and skips the rest: watch the profile's "
            "bars move and the count of those topics among the last 10.",
            "Finishing and liking turned the feed within about 20 videos.",
            lambda tour: None,
            _interactions_evidence,
            counter=_interactions_counter,
            me="finish and like two topics (l), skip the rest (j)",
        ),
        Chapter(
            "3 · 'Not interested' removes a topic",
            "The viewer says 'not interested' in a topic (n, then 4): count it in the next 20.",
            f"A topic marked 'not interested' stayed out of the next {AFTER_MUTE} videos.",
            _mute_begin,
            _mute_evidence,
            counter=_mute_counter,
            me="press n, then 4 (its topic), on a video you do not want",
        ),
        Chapter(
            "4 · New uploads get a test pool, whoever posts them",
            "A crowd of simulated viewers watches beside you: a new creator's upload enters "
            "a small test pool and climbs to the next if its viewers finish and like it.",
            "Reach comes from how a pool's viewers react, not from followers.",
            lambda tour: None,
            _pools_evidence,
            counter=_pools_counter,
            status=_pools_status,
            crowd=True,
        ),
        Chapter(
            "5 · Diversity on purpose",
            "the source under the video's caption and the x-ray (◀ marks the source of the "
            "pick): an exploration pick comes from outside your interests.",
            "Some picks are exploration on purpose, and the x-ray says which source it was.",
            _explore_begin,
            _explore_evidence,
            counter=_explore_counter,
        ),
        Chapter(
            "6 · Trending sounds and hashtags",
            "The crowd and you react: watch a hashtag or a sound rise in Discover (d).",
            "Trends are everyone's reactions per hour: they rise as the events come in.",
            _trends_begin,
            _trends_evidence,
            reveal=lambda tour: tour.show_discover(),
            crowd=True,
            me="react (l, s, f), then open Discover (d)",
        ),
        Chapter(
            "7 · Heating: an operator boost",
            "The operator boosts a video: watch it arrive, then 'why this video' (w). "
            "TikTok's own boosts ('heating') are not disclosed to viewers.",
            "Here a boost is always disclosed; TikTok's own heating is not.",
            _heat_begin,
            _heat_evidence,
            status=_heat_status,
            me="watch for the boosted video, then press w",
        ),
        Chapter(
            "8 · The session's trajectory",
            "What the feed learned, video by video, as a study's debrief shows it.",
            "Every step was recorded: the profile moved with each reaction.",
            _end_begin,
            _end_evidence,
            me="q: the session summary",
        ),
    ]


def loved_by_reactions(session: FeedSession, n: int = 2) -> tuple[str, ...]:
    """The presenter's loved topics when they drive: the strongest topic affinities."""
    return tuple(topic for topic, _ in into_topics(session.profile(), n))


def default_loved(engine: Engine) -> tuple[str, str]:
    """The two topics the tour's pilot loves: cooking and pets where the world has them,
    else the world's first two topics."""
    topics = engine.topics()
    wanted = [t for t in ("cooking", "pets") if t in topics]
    return (wanted[0], wanted[1]) if len(wanted) == 2 else (topics[0], topics[1])
