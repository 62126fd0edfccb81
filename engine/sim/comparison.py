"""An experiment's verdict: every arm's metrics, where each sits between random and the oracle,
and paired differences against a baseline arm with intervals a ranking developer can trust.

The verdict is built the way a pre-registered A/B test is: one declared **primary** metric
(watch time per session unless asked otherwise), a few **guardrails** (diversity, negative
feedback, new creators' share), and everything else secondary. Differences are bootstrapped
over shards (personas of a shard share an engine, so shards are the independent units), and
one weighted Holm correction over every tested metric keeps the chance that an A/A run flags
anything at 5%: the primary carries half that budget, the guardrails and the rest a quarter
each. A metric that duplicates an earlier one (skip is 1 − completion) or has no data in an
arm is shown but not tested. Time to personalise is the Kaplan–Meier restricted mean up to one
horizon, the shortest longest feed of any arm and any persona group: every figure of it (an
arm's over all personas or a group's, each difference, the metrics JSON) uses that one horizon,
so personas who never got there count as waiting the whole way, and all personas' value is
comparable with the groups'.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from engine import frames
from engine.config import Config, recorded_toml
from engine.policy import PolicySpec, picked_by
from engine.sim.experiment import Experiment
from engine.sim.inference import (
    ALPHA,
    Estimate,
    cluster_resamples,
    curve_band,
    minimum_detectable_effect,
    ratio_difference,
    restricted_mean,
    restricted_mean_difference,
    weighted_holm,
)
from engine.sim.metrics import (
    CURVE_AXIS,
    GROUPS,
    METRICS,
    POPULATION_METRICS,
    RATIO_METRICS,
    Measures,
    Parts,
    curve_terms,
    measure,
)
from engine.sim.stats import CONFIDENCE, N_RESAMPLES, Difference, population_jackknife

F64 = npt.NDArray[np.float64]
PLACEMENT_METRIC = "watch_per_session"
ORACLE = "oracle"
# The oracle serves, pick by pick, the highest true expected watch time: watch time is all it
# aims at, and greedily; on anything else it is just another feed.
ORACLE_AIMS = ("watch_per_session", "watch_per_impression")
ORACLE_NOTE = (
    "oracle: at each pick, the video with the highest true expected watch time (greedy, so a "
    "feed that plans ahead could still pass it per session). On watch time it is the ceiling; "
    "on every other metric a reference, not a bound."
)
BOOTSTRAP_KEY = 0xB007  # spawn key of the bootstrap's stream: no persona's key has one part
BAND_KEY = 0xBA4D  # the curves' bands draw from a stream of their own
BAND_RESAMPLES = 400  # a band is drawn, not tested: a few hundred resamples trace it
Band = tuple[F64, F64]  # pointwise lower and upper edges of a curve
PRIMARY = "watch_per_session"
GUARDRAILS = ("intra_list_diversity", "strong_negative", "new_creator_share")
# Shares of the 5% family-wise error budget (weighted Holm): the primary is tested first at
# 2.5%, the guardrails and the secondary metrics share the rest, each family a quarter.
BUDGET = {"primary": 0.5, "guardrail": 0.25, "secondary": 0.25}
SURVIVAL = "time_to_personalise"  # summarised by the Kaplan–Meier restricted mean


@dataclass(frozen=True, eq=False)
class Comparison:
    experiment: Experiment
    measures: dict[str, Measures]  # by arm, in run order
    baseline: str | None  # the arm differences are taken against
    differences: dict[str, list[Difference]]  # other arm -> its differences from the baseline
    resamples: int | None = None  # bootstrap resamples behind the intervals (None: no intervals)
    primary: str = PRIMARY
    guardrails: tuple[str, ...] = GUARDRAILS
    horizon: float = float("nan")  # τ of the restricted mean time to personalise (impressions)
    clusters: int = 0  # shards: the independent units the bootstrap resamples
    mde: dict[str, float] = field(default_factory=dict)  # arm -> primary's detectable effect
    per_seed: dict[str, list[dict[str, float]]] = field(default_factory=dict)  # arm -> seeds
    # arm -> "all" or a persona group -> curve (CURVE_AXIS) -> its 95% pointwise band
    bands: dict[str, dict[str, dict[str, Band]]] = field(default_factory=dict)
    # persona group -> other arm -> its differences from the baseline within that group
    group_differences: dict[str, dict[str, list[Difference]]] = field(default_factory=dict)

    def summary(self, group: str | None = None) -> dict[str, dict[str, float]]:
        """Point estimates per arm and metric, over all personas or one group's (time to
        personalise: the restricted mean up to :attr:`horizon`)."""
        result = {}
        for arm, m in self.measures.items():
            values = m.summary(group)
            if np.isfinite(self.horizon):
                within = m if group is None else _subset(m, m.groups[group])
                values[SURVIVAL] = float(restricted_mean(*_survival(within.parts), self.horizon))
            result[arm] = values
        return result

    def placement(self, group: str | None = None) -> dict[str, float]:
        """Where each arm's watch time per session falls: 0 = random, 1 = oracle.

        The oracle is greedy (one pick at a time), so an arm that plans ahead can exceed 1.
        """
        summary = self.summary(group)
        if "random" not in summary or "oracle" not in summary:
            return {}
        floor = summary["random"][PLACEMENT_METRIC]
        span = summary["oracle"][PLACEMENT_METRIC] - floor
        if not np.isfinite(span) or span == 0:
            return {}
        return {arm: (s[PLACEMENT_METRIC] - floor) / span for arm, s in summary.items()}

    def reference_only(self, arm: str, metric: str) -> bool:
        """Whether ``arm``'s value of ``metric`` is a reference, not a bound: the oracle's on
        anything but watch time."""
        return arm == ORACLE and metric not in ORACLE_AIMS

    def to_pandas(self) -> Any:
        """Per-persona measures as a long pandas DataFrame, for a notebook: one row per arm,
        persona and ratio metric, with the persona's seed and shard and the metric's
        numerator and denominator (a metric's value is ``Σ num / Σ den`` over any rows).

        Raises:
            ImportError: pandas is not installed (``pip install 'foryou[pandas]'``).
        """
        return frames.to_pandas(per_persona_columns(self.experiment, self.measures))

    def to_parquet(self, path: str | Path) -> None:
        """Write :meth:`to_pandas`'s rows to a Parquet file (needs pyarrow)."""
        frames.to_parquet(per_persona_columns(self.experiment, self.measures), path)

    def as_dict(self) -> dict[str, Any]:
        """Everything a metrics JSON holds (plain values only), down to what it takes to run the
        same experiment again: the foryou version, every arm's effective config, the resamples."""
        spec = self.experiment.spec
        runs = self.experiment.runs
        data = {
            "foryou_version": _foryou_version(),
            "spec": {
                "db": str(spec.db_path),
                "users": spec.users,
                "sessions": spec.sessions,
                "seed": spec.seed,
                "replicates": spec.replicates,
                "jobs": spec.jobs,
                "log": spec.log,
                "backend": spec.backend,
                "shard_size": spec.shard_size,
                "start_t": spec.start_t,
                "behaviour": asdict(spec.behaviour),
            },
            "resamples": self.resamples,
            "primary": self.primary,
            "guardrails": list(self.guardrails),
            "alpha": ALPHA,
            "error_budget": BUDGET,
            "clusters": self.clusters,
            "time_to_personalise_horizon": self.horizon,
            "minimum_detectable_effect": self.mde,
            "per_seed": self.per_seed,
            "arms": {
                name: {
                    "config": _config_record(run.arm.config, run.arm.spec),
                    "policy": run.arm.spec.record(),
                    "oracle": run.arm.oracle,
                    "log": run.arm.log,
                    "metrics": self.summary()[name],
                    "pool_reach": [float(x) for x in self.measures[name].pool_reach],
                    "impressions": run.impressions,
                    "events": run.events,
                    "engine_s": run.engine_s,
                    "wall_s": run.wall_s,
                    "curves": {k: v.tolist() for k, v in self.measures[name].curves.items()},
                    "bands": {
                        group: {k: {"low": lo, "high": hi} for k, (lo, hi) in curves.items()}
                        for group, curves in self.bands.get(name, {}).items()
                    },
                    "groups": _groups(self, name),
                    "predictions": _predictions(self.measures[name]),
                }
                for name, run in runs.items()
            },
            "placement": self.placement(),
            "placement_by_group": {g: self.placement(g) for g in GROUPS},
            "oracle_note": ORACLE_NOTE if ORACLE in runs else None,
            "baseline": self.baseline,
            "differences": {
                arm: [vars(d) for d in diffs] for arm, diffs in self.differences.items()
            },
            "group_differences": {
                group: {arm: [vars(d) for d in diffs] for arm, diffs in by_arm.items()}
                for group, by_arm in self.group_differences.items()
            },
        }
        result: dict[str, Any] = _plain(data)
        return result


def per_persona_columns(
    experiment: Experiment, measures: dict[str, Measures]
) -> dict[str, npt.NDArray[Any]]:
    """Columns of the per-persona table: arm, seed, persona, shard, metric, num, den."""
    spec = experiment.spec
    shard = shard_of_units(experiment)
    unit = np.arange(len(shard))
    columns: dict[str, list[npt.NDArray[Any]]] = {k: [] for k in COLUMNS}
    for arm, m in measures.items():
        for key, parts in m.parts.items():
            n = len(parts.num)
            columns["arm"].append(np.full(n, arm, dtype=object))
            columns["seed"].append(unit[:n] // spec.users)
            columns["persona"].append(unit[:n] % spec.users)
            columns["shard"].append(shard[:n])
            columns["metric"].append(np.full(n, key, dtype=object))
            columns["num"].append(parts.num)
            columns["den"].append(parts.den)
    return {k: np.concatenate(v) if v else np.zeros(0) for k, v in columns.items()}


COLUMNS = ("arm", "seed", "persona", "shard", "metric", "num", "den")


def _groups(comparison: Comparison, arm: str) -> dict[str, Any]:
    """Each persona group's size, metrics and curves."""
    measures = comparison.measures[arm]
    sizes = measures.group_sizes()
    return {
        group: {
            "personas": sizes[group],
            "metrics": comparison.summary(group)[arm],
            "curves": {k: v.tolist() for k, v in measures.group_curves[group].items()},
        }
        for group in GROUPS
    }


def _predictions(measures: Measures) -> dict[str, Any]:
    """Calibration and AUC per action, for all personas and per group (null: no predictions)."""
    return {
        group: {a: None if c is None else asdict(c) for a, c in by_action.items()}
        for group, by_action in measures.predictions.items()
    }


def _config_record(config: Config, spec: PolicySpec) -> dict[str, str]:
    """An arm's config as a session's config row records it: with ``[picked_by]`` when the
    arm's policy is not the config's own (engine.config.recorded_toml)."""
    toml = recorded_toml(config, picked_by(spec, config))
    return {"name": config.name, "sha256": hashlib.sha256(toml.encode()).hexdigest(), "toml": toml}


def _foryou_version() -> str | None:
    try:
        return metadata.version("foryou")
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return None


def _plain(value: Any) -> Any:
    """JSON has no NaN: undefined numbers become null and numpy numbers plain, at any depth."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def compare(
    experiment: Experiment,
    *,
    baseline: str | None = None,
    bootstrap: bool = True,
    n_resamples: int = N_RESAMPLES,
    primary: str = PRIMARY,
    guardrails: tuple[str, ...] = GUARDRAILS,
    units: npt.NDArray[np.bool_] | None = None,
) -> Comparison:
    """Measure every arm; with ``bootstrap``, difference every other arm from ``baseline``.

    The baseline defaults to the first arm that is not a reference (random, oracle).

    Args:
        experiment: what the arms produced.
        baseline: the arm differences are taken from.
        bootstrap: compute differences, intervals and the correction (else point values only).
        n_resamples: shard resamples behind each interval.
        primary: the metric the experiment is about (half the error budget, the MDE).
        guardrails: metrics that must not get worse (a quarter of the budget).
        units: which personas to compare (a population split, e.g. onboarded or cold-start
            personas), all of them when ``None``.

    Raises:
        ValueError: ``bootstrap`` with fewer than one resample, an unknown metric.
    """
    if bootstrap and n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples}")
    for key in (primary, *guardrails):
        if key not in METRICS:
            raise ValueError(f"unknown metric {key!r}; one of {', '.join(METRICS)}")
    world = experiment.world
    measures = {name: measure(run, world) for name, run in experiment.runs.items()}
    if units is not None:
        measures = {name: _subset(m, units) for name, m in measures.items()}
    names = list(measures)
    chosen = baseline or next((n for n in names if n not in ("random", "oracle")), names[0])
    horizon = _horizon(measures)
    plan = _Plan(
        cluster_of=shard_of_units(experiment),
        primary=primary,
        guardrails=tuple(g for g in guardrails if g != primary),
        horizon=horizon,
    )
    if units is not None:
        plan = replace(plan, cluster_of=_renumber(plan.cluster_of[units]))
    differences: dict[str, list[Difference]] = {}
    mde: dict[str, float] = {}
    per_seed: dict[str, list[dict[str, float]]] = {}
    if bootstrap:
        rng = np.random.default_rng(
            np.random.SeedSequence(experiment.spec.seed, spawn_key=(BOOTSTRAP_KEY,))
        )
        counts = cluster_resamples(plan.clusters, rng, n_resamples)
        for name in names:
            if name != chosen:
                diffs, se = _differences(measures[chosen], measures[name], plan, counts)
                differences[name] = diffs
                mde[name] = _mde(se, diffs, plan)
                if units is None:
                    per_seed[name] = _per_seed(experiment, measures[chosen], measures[name], plan)
    whole = bootstrap and units is None
    bands = _bands(experiment, measures, plan.cluster_of) if whole else {}
    by_group = _group_differences(experiment, measures, chosen, plan, n_resamples) if whole else {}
    return Comparison(
        experiment,
        measures,
        chosen,
        differences,
        n_resamples if bootstrap else None,
        primary=primary,
        guardrails=plan.guardrails,
        horizon=horizon,
        clusters=plan.clusters,
        mde=mde,
        per_seed=per_seed,
        bands=bands,
        group_differences=by_group,
    )


@dataclass(frozen=True)
class _Plan:
    """What is tested and how: the shards personas belong to, the metrics' roles."""

    cluster_of: npt.NDArray[np.int64]
    primary: str
    guardrails: tuple[str, ...]
    horizon: float

    @property
    def clusters(self) -> int:
        return int(self.cluster_of.max()) + 1 if len(self.cluster_of) else 0

    def role(self, metric: str) -> str:
        if metric == self.primary:
            return "primary"
        return "guardrail" if metric in self.guardrails else "secondary"


def shard_of_units(experiment: Experiment) -> npt.NDArray[np.int64]:
    """Each persona's shard across the whole run (replicates stacked), the way
    ``experiment._tasks`` cut them: ``shard_size`` personas in order, never across seeds."""
    spec = experiment.spec
    per_replicate = -(-spec.users // spec.shard_size)
    unit = np.arange(spec.users * spec.replicates, dtype=np.int64)
    return (unit // spec.users) * per_replicate + (unit % spec.users) // spec.shard_size


def _renumber(cluster_of: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Shard ids 0..k-1 for the shards a subset of personas still has."""
    return np.unique(cluster_of, return_inverse=True)[1].astype(np.int64)


def _subset(m: Measures, units: npt.NDArray[np.bool_]) -> Measures:
    parts = {k: Parts(p.num[units], p.den[units]) for k, p in m.parts.items()}
    exposure = replace(
        m.exposure, videos=m.exposure.videos[units], creators=m.exposure.creators[units]
    )
    groups = {name: mask[units] for name, mask in m.groups.items()}
    return replace(m, parts=parts, exposure=exposure, groups=groups)


def _survival(parts: dict[str, Parts]) -> tuple[F64, F64]:
    """Per persona: impressions until personalised (or until last seen), and whether it was."""
    return parts[SURVIVAL].num, parts["personalised"].num


def _horizon(measures: dict[str, Measures]) -> float:
    """τ for every restricted mean of a comparison: the shortest of the longest follow-ups of
    each arm, over all personas and within each group, so wherever a mean is taken every arm
    has personas at risk up to τ (the curve is never extended past its data), and all
    personas' value and the groups' are areas under curves cut at the same τ."""
    longest = [float(m.parts[SURVIVAL].num.max(initial=0.0)) for m in measures.values()]
    if not longest or min(longest) <= 0:
        return float("nan")
    within = [_longest_by_group(m) for m in measures.values()]
    return min(longest + [x for by_group in within for x in by_group if x > 0])


def _longest_by_group(m: Measures) -> list[float]:
    times = m.parts[SURVIVAL].num
    return [float(times[mask].max()) for mask in m.groups.values() if mask.any()]


def _differences(
    a: Measures, b: Measures, plan: _Plan, counts: F64
) -> tuple[list[Difference], float]:
    """Every metric's B − A with a clustered interval and its weighted-Holm-adjusted p-value;
    returns them and the primary's standard error."""
    estimates: dict[str, Estimate] = {}
    notes: dict[str, str] = {}
    for m in RATIO_METRICS:
        if m.key == SURVIVAL:
            survival = (_survival(a.parts), _survival(b.parts))
            estimates[m.key] = restricted_mean_difference(
                *survival, plan.horizon, plan.cluster_of, counts
            )
            continue
        pa, pb = a.parts[m.key], b.parts[m.key]
        notes[m.key] = _no_data(pa, pb) or _duplicate_of(m.key, a, b, plan)
        estimates[m.key] = ratio_difference(
            (pa.num, pa.den), (pb.num, pb.den), plan.cluster_of, counts
        )
    for m in POPULATION_METRICS:
        estimates[m.key] = population_jackknife(m.key, a.exposure, b.exposure, plan.cluster_of)
    values_a, values_b = a.summary(), b.summary()
    if np.isfinite(plan.horizon):
        values_a[SURVIVAL] = float(restricted_mean(*_survival(a.parts), plan.horizon))
        values_b[SURVIVAL] = float(restricted_mean(*_survival(b.parts), plan.horizon))
    tested = [k for k, e in estimates.items() if not notes.get(k) and np.isfinite(e.p_value)]
    adjusted = dict(zip(tested, _adjust(tested, estimates, plan), strict=True))
    diffs = []
    for key, e in estimates.items():
        low, high = _within_range(key, *e.interval(CONFIDENCE), plan)
        note = _why_untested(notes.get(key) or _untested(key in adjusted, e), e, plan)
        point = e.point  # wherever both arms have a value, even with no interval
        diffs.append(
            Difference(
                key,
                values_a[key],
                values_b[key],
                point,
                low if not note else float("nan"),
                high if not note else float("nan"),
                p_value=e.p_value if not note else float("nan"),
                adjusted=adjusted.get(key, float("nan")),
                role="untested" if note else plan.role(key),
                note=note,
            )
        )
    return diffs, estimates[plan.primary].se


ONE_SHARD = "one shard: no interval"
# Differences of shares (rates, coverage, Gini: each in [0, 1]) lie in [-1, 1]: a t interval
# on few shards runs past that, and what lies outside is impossible, not uncertain.
SHARE_UNITS = frozenset({"%"})


def _untested(tested: bool, e: Estimate) -> str:
    """Why a metric with no note of its own went untested: no data, a single shard (its point
    difference stands, with no interval), or no p-value to be had."""
    if tested:
        return ""
    if not np.isfinite(e.point):
        return "no data"
    return ONE_SHARD if e.clusters < 2 else "no interval"


def _why_untested(note: str, e: Estimate, plan: _Plan) -> str:
    """On one shard no metric gets an interval, so that is the reason a measured difference
    went untested, whatever else holds (few personas reaching it, none in either arm); a
    repeated metric still names the one it repeats."""
    if note and plan.clusters < 2 and np.isfinite(e.point) and not note.startswith("="):
        return ONE_SHARD
    return note


def _within_range(key: str, low: float, high: float, plan: _Plan) -> tuple[float, float]:
    """An interval clipped to the differences the metric can have."""
    if METRICS[key].unit in SHARE_UNITS or key == "creator_gini":
        bound = 1.0
    elif key == SURVIVAL and np.isfinite(plan.horizon):
        bound = plan.horizon  # a restricted mean lies in [0, horizon]
    else:
        return low, high
    return max(low, -bound), min(high, bound)


def _adjust(tested: list[str], estimates: dict[str, Estimate], plan: _Plan) -> F64:
    roles = [plan.role(k) for k in tested]
    family = {r: roles.count(r) for r in set(roles)}
    weights = np.array([BUDGET[r] / family[r] for r in roles])
    return weighted_holm(np.array([estimates[k].p_value for k in tested]), weights)


def _duplicate_of(key: str, a: Measures, b: Measures, plan: _Plan) -> str:
    """Names the metric ``key`` repeats in both arms (the same rate, or its complement), so
    one difference is not counted twice. Of two that agree, the primary or a guardrail is
    kept, else the one listed first."""
    rank = {"primary": 0, "guardrail": 1, "secondary": 2}
    by_role = sorted(
        (m for m in RATIO_METRICS if m.key != SURVIVAL), key=lambda m: rank[plan.role(m.key)]
    )
    for m in by_role:
        if m.key == key:
            return ""
        if all(_same_or_complement(x.parts[key], x.parts[m.key]) for x in (a, b)):
            same = np.array_equal(a.parts[key].num, a.parts[m.key].num)
            return f"= {m.label.lower()}" if same else f"= 1 − {m.label.lower()}"
    return ""


def _same_or_complement(x: Parts, y: Parts) -> bool:
    if not np.array_equal(x.den, y.den) or not y.num.any():
        return False
    return np.array_equal(x.num, y.num) or np.allclose(x.num, x.den - y.num)


MIN_PERSONAS = 10  # fewer personas with data make a bootstrap interval meaningless


def _no_data(a: Parts, b: Parts) -> str:
    """Why a rate cannot be compared: nobody could have it, too few personas reached it (a
    metric of impressions 41-80 in short sessions), or it happened in neither arm."""
    if a.den.sum() == 0 or b.den.sum() == 0:
        return "no data"
    reached = min(int((a.den > 0).sum()), int((b.den > 0).sum()))
    if reached < MIN_PERSONAS:
        return f"only {reached} personas reached it"
    return "" if a.num.any() or b.num.any() else "none in either arm"


def _mde(se: float, diffs: list[Difference], plan: _Plan) -> float:
    """The primary's minimum detectable effect at 80% power, at the level it is first tested
    at (its share of the budget among the metrics tested)."""
    roles = [d.role for d in diffs if d.role != "untested"]
    if "primary" not in roles:
        return float("nan")
    family = {r: roles.count(r) for r in set(roles)}
    total = sum(BUDGET[r] for r in family)
    level = ALPHA * BUDGET["primary"] / total
    return minimum_detectable_effect(se, alpha=level, df=max(plan.clusters - 1, 1))


def _group_differences(
    experiment: Experiment,
    measures: dict[str, Measures],
    baseline: str,
    plan: _Plan,
    n_resamples: int,
) -> dict[str, dict[str, list[Difference]]]:
    """Every arm's differences from the baseline within each persona group (onboarded, cold
    start), each group its own family for the correction: does a change help one group and
    hurt the other?"""
    groups = next(iter(measures.values())).groups
    result: dict[str, dict[str, list[Difference]]] = {}
    for index, (group, personas) in enumerate(groups.items()):
        if personas.sum() < MIN_PERSONAS:
            continue
        within = {name: _subset(m, personas) for name, m in measures.items()}
        # The comparison's horizon, not the group's own: the group's values are shown with it.
        group_plan = replace(plan, cluster_of=_renumber(plan.cluster_of[personas]))
        key = np.random.SeedSequence(experiment.spec.seed, spawn_key=(BOOTSTRAP_KEY, index + 1))
        counts = cluster_resamples(group_plan.clusters, np.random.default_rng(key), n_resamples)
        result[group] = {
            name: _differences(within[baseline], within[name], group_plan, counts)[0]
            for name in within
            if name != baseline
        }
    return result


def _bands(
    experiment: Experiment, measures: dict[str, Measures], cluster_of: npt.NDArray[np.int64]
) -> dict[str, dict[str, dict[str, Band]]]:
    """95% pointwise bands of every arm's learning and topic-share curves, over all personas
    and per group, from resampled shards (the same independent units as the differences)."""
    clusters = int(cluster_of.max()) + 1 if len(cluster_of) else 0
    rng = np.random.default_rng(np.random.SeedSequence(experiment.spec.seed, spawn_key=(BAND_KEY,)))
    counts = cluster_resamples(clusters, rng, BAND_RESAMPLES)
    world = experiment.world
    result: dict[str, dict[str, dict[str, Band]]] = {}
    for name, run in experiment.runs.items():
        trace = run.trace
        topic = world.videos.topic_id[trace["video"]].astype(np.int64)
        loved = run.population.loved[trace["unit"], topic]
        everyone = np.ones(len(trace), dtype=bool)
        rows_of = {
            "all": everyone,
            **{g: m[trace["unit"]] for g, m in measures[name].groups.items()},
        }
        result[name] = {}
        for group, rows in rows_of.items():
            curves = measures[name].curves if group == "all" else measures[name].group_curves[group]
            if not curves:  # a group without personas
                continue
            terms = curve_terms(trace[rows], topic[rows], loved[rows], len(world.topics))
            result[name][group] = {
                key: curve_band(
                    t.position, cluster_of[t.unit], t.value, len(curves[CURVE_AXIS[key]]), counts
                )
                for key, t in terms.items()
            }
    return result


def _per_seed(
    experiment: Experiment, a: Measures, b: Measures, plan: _Plan
) -> list[dict[str, float]]:
    """The primary metric seed by seed: do the seeds agree on the sign?"""
    users = experiment.spec.users
    rows = []
    for r in range(experiment.spec.replicates):
        rows_of = slice(r * users, (r + 1) * users)
        value_a, value_b = (_value(x, plan.primary, rows_of, plan.horizon) for x in (a, b))
        rows.append({"seed": r, "a": value_a, "b": value_b, "diff": value_b - value_a})
    return rows


def _value(m: Measures, metric: str, rows: slice, horizon: float) -> float:
    if metric == SURVIVAL:
        times, events = _survival(m.parts)
        return float(restricted_mean(times[rows], events[rows], horizon))
    if metric in m.parts:
        return Parts(m.parts[metric].num[rows], m.parts[metric].den[rows]).value
    units = m.exposure.videos.shape[0]
    weights = np.zeros((1, units))
    weights[0, rows] = 1.0
    return float(m.exposure.values(weights)[metric][0])
