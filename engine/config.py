"""Every tunable number of the ranking engine, validated from TOML.

The defaults are the documented baseline (README, "Ranking config"). A config file only needs
the keys it changes; unknown keys, wrong types and out-of-range values are one-line errors that
name the key. ``effective_toml`` writes back the full config actually in force, which is what
sessions record.
"""

from __future__ import annotations

import hashlib
import math
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import tomli_w

# Floats must be finite (msgspec has no constraint for that, see _check_finite). Finite is
# not enough either: 1.7e308 passes, then two such terms add up to inf and inf - inf is NaN. Each
# kind of number gets a ceiling far beyond any sensible setting that keeps every score, sum and
# product finite (tests/test_bad_input.py sweeps configs at these bounds through real picks).
MAX_VALUE = 1_000.0  # a reaction's value, relative to a like (X's report weight is -234)
# A logit weight: ten features of at most 1.3 at this weight keep |z| < 709, where e^z (in
# P(not interested)) is still finite; e^50 already decides any probability.
MAX_WEIGHT = 50.0
MAX_HOURS = 1_000_000.0  # world hours (over a century)
MAX_COUNT = 100_000  # per-pick quotas, slate, window: bounds the work (and memory) of one pick
MAX_POOL = 1_000_000_000  # viewers in a test pool
MAX_PSEUDO_VIEWS = 1e9  # smoothing views added to every video's rates
MAX_SEED = 2**63 - 1  # stored in SQLite's 64-bit integers

Value = Annotated[float, msgspec.Meta(ge=-MAX_VALUE, le=MAX_VALUE)]
Weight = Annotated[float, msgspec.Meta(ge=-MAX_WEIGHT, le=MAX_WEIGHT)]
NonNegative = Annotated[float, msgspec.Meta(ge=0.0, le=MAX_VALUE)]
Hours = Annotated[float, msgspec.Meta(ge=0.0, le=MAX_HOURS)]
Positive = Annotated[float, msgspec.Meta(gt=0.0, le=MAX_VALUE)]  # something divides by it
Fraction = Annotated[float, msgspec.Meta(ge=0.0, le=1.0)]
Count = Annotated[int, msgspec.Meta(ge=0, le=MAX_COUNT)]
AtLeastOne = Annotated[int, msgspec.Meta(ge=1, le=MAX_COUNT)]
PseudoViews = Annotated[float, msgspec.Meta(gt=0.0, le=MAX_PSEUDO_VIEWS)]
Seed = Annotated[int, msgspec.Meta(ge=0, le=MAX_SEED)]


class Reactions(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Value of each action, relative to a like (= 1). Negative values push away."""

    complete: Value = 2.0  # watching to the end
    complete_per_minute: Value = 1.0  # finishing a longer video is a stronger signal
    skip_max: Value = 0.6  # a skip near the end is almost a completion
    early_skip: Value = -0.6  # leaving before early_skip_s
    early_skip_s: NonNegative = 2.0  # seconds
    rewatch: Value = 2.5
    like: Value = 1.0
    share: Value = 1.5
    save: Value = 2.0
    comment: Value = 3.0
    follow: Value = 5.0
    not_interested: Value = -43.2  # X's public weight
    hide_creator: Value = -43.2
    report: Value = -234.0  # X's public weight


class Profile(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """How fast interests move."""

    long_term_rate: Fraction = 0.04  # long-term vector step per unit of reaction value
    short_term_rate: Fraction = 0.3  # short-term "state of mind" step
    max_step_value: Positive = 3.0  # reaction values are clipped to ±this for vector steps
    affinity_rate: Fraction = 0.15  # topic/hashtag/sound/creator affinity step
    short_term_weight: Fraction = 0.4  # share of the short-term vector in the retrieval query
    onboarding_strength: Fraction = 0.6  # initial affinity of a chosen interest (in [-1, 1])
    negative_half_life_h: Hours = 72.0  # how fast "not interested" fades (world hours)
    negative_filter_above: Fraction = 0.5  # faded strength above which it is a hard filter


class Sources(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Candidate quotas per source (how many each may propose per pick)."""

    interest: Count = 200
    follow: Count = 30
    trending: Count = 40
    fresh: Count = 20
    coengagement: Count = 30  # "viewers who finished this also finished that"
    coengaged_creators: Count = 10  # "... who finished this creator also finished that one"
    explore: Count = 20
    # Which of an explored topic's recent videos the explore source proposes: the "best" by
    # what they promise anyone (one place kept for a new creator's), or "random" ones
    # (engine.candidates.explore; figures there).
    explore_pick: Literal["random", "best"] = "best"
    # What a source's video promises the viewer (the explore probes, the liked topics' shares
    # of the interest quota, the fresh draw) is weighed by the chance the viewer follows its
    # language (engine.languages) raised to this power; 0: the sources ignore language.
    followed_language: NonNegative = 1.0
    locale: Count = 20
    boosted: Count = 10
    trending_window_h: Hours = 48.0
    fresh_window_h: Hours = 72.0


class Pools(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Staged test pools for new uploads."""

    # The most viewers each pool holds: its size once the active audience is large enough.
    sizes: list[int] = msgspec.field(default_factory=lambda: [20, 100, 500, 2000])
    min_ratio: NonNegative = 1.0  # promote if its rate beats the pool's by this ratio
    # Each pool holds this share of the viewers active in the trending window (the last share
    # for any further pool), at least min_size and at most its size; [] = the sizes as given.
    audience_shares: list[Fraction] = msgspec.field(default_factory=lambda: [0.05, 0.1, 0.2, 0.4])
    min_size: AtLeastOne = 5


class Filters(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    language: Literal["any", "user", "user+en"] = "any"
    # A served-but-unseen video may return after this many picks (at most 256).
    resurface_after: Annotated[int, msgspec.Meta(ge=0, le=256)] = 30
    allow_sensitive: bool = False  # default for new viewers


class Scoring(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Weights of the transparent P(action) model (logit units)."""

    similarity: Weight = 4.0
    topic_affinity: Weight = 1.5
    hashtag_affinity: Weight = 0.8
    sound_affinity: Weight = 0.6
    creator_affinity: Weight = 1.0
    followed: Weight = 2.5  # audits: following moves the feed most
    followed_new: Weight = 2.0  # a new upload (inside fresh_window_h) from a followed creator
    # × the chance the viewer follows the video's language (engine.languages): a video it
    # cannot follow loses about a third of its watch, more than this input's 0.3 once said
    same_language: Weight = 1.0
    same_country: Weight = 0.1  # a weak signal, per TikTok
    freshness: Weight = 0.3  # bonus for videos younger than fresh_window_h
    prior_views: PseudoViews = 50.0  # smoothing of global rates
    # What a video's completion rate is shrunk toward: the overall rate, or the rate of videos
    # of its length ("length": on the demo world +8-10% watch per session, see README).
    completion_prior: Literal["overall", "length"] = "length"
    base_not_interested: Fraction = 0.002


class Rerank(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    slate: AtLeastOne = 20  # items the final pick samples from
    author_decay: Fraction = 0.5  # X: score × 0.5 per repeat of an author in the window
    # The floor of that penalty; negative scores are divided by it, so never 0.
    author_floor: Annotated[float, msgspec.Meta(gt=0.0, le=1.0)] = 0.25
    window: Count = 10  # recent picks the diversity rules look back on
    topic_cap: AtLeastOne = 6  # at most this many of one topic in the window
    # ... and this many more of a topic the viewer finished every time lately (rerank.py)
    topic_cap_finishing: Count = 2
    explore_share: Fraction = 0.1  # probability mass reserved for exploration items
    # New creators' uploads in their test pools are owed this share of each viewer's recent
    # feed (a fair first audience): a pick's debut slot takes what the feed still owes them.
    debut_share: Fraction = 0.10
    debut_after: Count = 20  # ... once the viewer has seen this many (the first learn the viewer)
    cold_start_explore: Fraction = 0.15  # extra exploration for a young profile ...
    cold_start_videos: NonNegative = 8.0  # ... decaying by e every this many videos seen
    # Rank topics by their posterior mean, not a fresh Thompson draw, once the viewer has seen
    # this many videos (0 = always draw; engine.uncertainty.settled says what it trades).
    settle_after: Count = 0


class Pick(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    policy: Literal["softmax", "epsilon_greedy"] = "softmax"
    temperature: NonNegative = 0.15  # 0 = always the top item
    epsilon: Fraction = 0.05


class Config(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    name: str = "default"
    seed: Seed = 0  # seeds the pick sampling: same seed + same events = same feed
    policy: Literal["engine", "random", "popular"] = "engine"
    reactions: Reactions = Reactions()
    profile: Profile = Profile()
    sources: Sources = Sources()
    pools: Pools = Pools()
    filters: Filters = Filters()
    scoring: Scoring = Scoring()
    rerank: Rerank = Rerank()
    pick: Pick = Pick()


class ConfigError(ValueError):
    """A config that cannot be used; the message is one line naming the bad key."""


def parse_config(text: str, source: str = "config") -> Config:
    """Validate TOML text into a :class:`Config`.

    Raises:
        ConfigError: malformed TOML, an unknown key, a wrong type, a value that is out of
            range or not finite (TOML spells them ``inf`` and ``nan``).
    """
    return _config_of(_toml(text, source), source)


def parse_recorded(text: str, source: str = "config") -> tuple[Config, dict[str, Any] | None]:
    """A session's config row (``configs.toml``): the config, and its ``[picked_by]`` table
    when a policy other than the config's own picked (see :func:`recorded_toml`).

    Raises:
        ConfigError: as :func:`parse_config`.
    """
    data = _toml(text, source)
    picked_by = data.pop(PICKED_BY, None)
    return _config_of(data, source), picked_by if isinstance(picked_by, dict) else None


def _toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: malformed TOML: {exc}") from None


def _config_of(data: dict[str, Any], source: str) -> Config:
    _check_finite(data, "$", source)
    try:
        config = msgspec.convert(data, Config)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    _check_pools(config, source)
    return config


def _check_finite(value: object, path: str, source: str) -> None:
    """Refuse ``inf`` and ``nan`` anywhere in the TOML, in msgspec's own message style, before
    the bounds are checked: "not finite" says more than "not below 1000"."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{source}: Expected finite `float`, got {value} - at `{path}`")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}", source)
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_finite(item, f"{path}[{index}]", source)


def _check_pools(config: Config, source: str) -> None:
    sizes = config.pools.sizes
    if not sizes or any(s <= 0 for s in sizes) or sizes != sorted(sizes):
        raise ConfigError(f"{source}: pools.sizes must be positive and increasing, got {sizes}")
    shares = config.pools.audience_shares
    if any(s <= 0 for s in shares) or shares != sorted(shares):
        raise ConfigError(
            f"{source}: pools.audience_shares must be positive and increasing, got {shares}"
        )
    if sizes[-1] > MAX_POOL:
        raise ConfigError(f"{source}: pools.sizes must be at most {MAX_POOL:,}, got {sizes}")


def load_config(path: str | Path | None) -> Config:
    """Read a config file; ``None`` gives the built-in defaults. A file without a ``name`` is
    named after itself (``cool.toml`` is "cool"), as a comparison labels its arm, so every
    command calls one file by one name.

    Raises:
        ConfigError: not a path, or the file is missing, not UTF-8 text, or invalid.
    """
    if path is None:
        return Config()
    if not isinstance(path, (str, os.PathLike)):  # a notebook's dict of settings, say
        raise ConfigError(
            f"a config is a TOML file's path, a Config or None, got {type(path).__name__} "
            f"{path!r:.60} (parse_config(text) reads TOML text)"
        )
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    data = _toml(text, str(path))
    data.setdefault("name", path.stem)
    return _config_of(data, str(path))


def as_dict(config: Config) -> dict[str, Any]:
    result: dict[str, Any] = msgspec.to_builtins(config)
    return result


def effective_toml(config: Config) -> str:
    """The full config in force, every default spelled out."""
    return tomli_w.dumps(as_dict(config))


def config_hash(config: Config) -> str:
    return hashlib.sha256(effective_toml(config).encode()).hexdigest()


# The table a session's config row adds when another policy than the config's ``policy`` picked
# (``--policy file.py:Class``): a record of who picked, never a key a config file may set.
PICKED_BY = "picked_by"


def recorded_toml(config: Config, picked_by: Mapping[str, Any] | None = None) -> str:
    """What a session's config row holds: the effective config, then ``[picked_by]`` (the
    policy, its parameters and its file's SHA-256) when another policy picked with it."""
    if not picked_by:
        return effective_toml(config)
    return tomli_w.dumps(as_dict(config) | {PICKED_BY: dict(picked_by)})
