"""Where the engine loses watch time, stage by stage: the truth of each pick's choices.

Placement on watch time (``bench_learning``) says how far the engine is from the oracle, not
where the gap opens. Here the engine picks for simulated personas as in ``compare``, and at
every pick the persona's true expected watch (:meth:`engine.sim.persona.Persona.expected_watch_s`,
what the oracle ranks by) is read for:

1. the best video the engine's filters allow in the whole catalog (the oracle's pick);
2. the best candidate the engine's sources retrieved (what retrieval leaves to rank);
3. the engine's top candidate by Σ P(action) × value (the ranking's own choice), and what it
   would be with the persona's true P(complete), with that chance computed from the video's
   quality and length alone (everything personal flattened), or from the persona's own parts
   alone (the video's quality flattened), or from the quality plus one personal part (the
   persona's class of the video's topic, its taste vector · the video's embedding, whether it
   understands the video's language, or the rest: creators, sounds, follows, the session's
   mood): which signal a better ranker would gain most from;
4. its top after the multipliers (topic draws, sliders, boosts);
5. the top of the re-ranked slate;
6. the expected truth of the pick (the slate's probabilities × each item's truth);

and, on the candidates, how the learned P(complete) compares with the persona's true
completion chance (correlation, the slope of the truth on the prediction, mean of each) and how
the engine's value per pick orders the candidates against the truth (Spearman within a pick),
and how many picks and candidates are in a language the persona understands, with the true
expected watch of the picks it does and does not.

Run (one process: the diagnosing policy collects its figures where it runs):

    python -m benchmarks.diagnose_ranking --users 40 --sessions 3
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import load_now, machine, measured, world
from engine.config import load_config
from engine.pipeline import Decision
from engine.policy import (
    CandidateSet,
    EnginePolicy,
    PickRequest,
    PolicySpec,
)
from engine.scoring import Scores
from engine.sim.experiment import RunSpec, run_experiment
from engine.sim.persona import Persona
from engine.sim.runner import Arm
from engine.sim.watch import _NODES, _WEIGHTS, finish_probability

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

STAGES = (
    ("oracle's best allowed", "allowed"),
    ("best candidate retrieved", "retrieved"),
    ("top by Σ P × value", "base"),
    ("  (the same with true P(complete))", "true p"),
    ("  (... quality and length alone)", "quality only"),
    ("  (... the persona's parts alone)", "personal only"),
    ("  (... quality + its topic class)", "quality+topic"),
    ("  (... quality + its taste vector)", "quality+taste"),
    ("  (... quality + its language)", "quality+language"),
    ("  (... quality + the rest)", "quality+rest"),
    ("top after multipliers", "multiplied"),
    ("top after re-rank", "reranked"),
    ("expected pick", "expected"),
)


@dataclass
class _Pick:
    onboarded: bool
    truths: dict[str, float]
    spearman: float
    predicted: F64  # P(complete) of each candidate
    true: F64  # the persona's completion chance of each
    understood: float  # share of the candidates in a language the persona understands
    pick_understood: bool  # the video served is
    pick_truth: float  # its true expected watch
    pick_source: str  # the source credited with it


# Where the diagnosing policy leaves its rows (the run is in this process: --jobs 1).
PICKS: list[_Pick] = []


def true_completion(persona: Persona, ids: I64, appeal_mean: F64 | None = None) -> F64:
    """The persona's chance of finishing each video now: hooked × finishes, the moment's
    noise integrated out as :func:`engine.sim.watch.expected_watch_s` does (``appeal_mean``:
    another appeal than the persona's, for the what-if lines)."""
    b = persona.behaviour
    duration = persona.world.videos.duration_s[ids].astype(np.float64)
    mean = persona.appeal_mean(ids) if appeal_mean is None else appeal_mean
    appeal = mean[:, None] + b.noise_sd * _NODES[None, :]
    hooked = 1.0 / (1.0 + np.exp(-appeal))
    finish = finish_probability(b, appeal, duration[:, None])
    result: F64 = (hooked * finish) @ _WEIGHTS
    return result


def _quality_part(persona: Persona, ids: I64) -> F64:
    """The part of the persona's appeal that is the video's quality, the same for everyone."""
    quality = persona.world.videos.quality[ids].astype(np.float64) - 0.5
    part: F64 = persona.behaviour.quality_weight * quality
    return part


def _parts(persona: Persona, ids: I64) -> dict[str, F64]:
    """The persona's appeal of each video in parts (they add up to :meth:`Persona.appeal_mean`):
    the video's quality, the persona's class of its topic, its taste vector · the video's
    embedding, its language (a penalty where the persona does not understand it) and the rest
    (creators, sounds, follows, the session's mood and satiation)."""
    b, t, v = persona.behaviour, persona.taste, persona.world.videos
    parts = {
        "quality": _quality_part(persona, ids),
        "topic": b.topic_weight * t.topic[v.topic_id[ids]].astype(np.float64),
        "taste": b.taste_weight * (v.embedding[ids] @ t.vector).astype(np.float64),
        "language": -b.foreign_penalty * ~persona.understands(ids),
    }
    parts["rest"] = persona.appeal_mean(ids) - sum(parts.values())
    return parts


def _flattened(appeal: F64, part: F64) -> F64:
    """``appeal`` with ``part`` replaced by its mean over the candidates: what a ranker that
    cannot tell the candidates apart on that part sees."""
    flat: F64 = appeal - part + part.mean()
    return flat


def _with_true_completion(scores: Scores, true: F64) -> F64:
    """Σ P × value with the persona's true completion chance in place of the learned one."""
    p, value = scores.p, scores.value
    moved = (true - p["complete"]) * (value["complete"] - value["skip"])
    result: F64 = scores.base + moved
    return result


def _ranks(values: F64) -> F64:
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks


class DiagnosedEngine(EnginePolicy):
    """The default engine, reading each persona's truth beside its picks (never acting on it)."""

    def __init__(self, *, learn: bool = True) -> None:
        super().__init__(learn=learn)
        self._personas: dict[int, Persona] = {}

    def attach(self, user_id: int, persona: Persona) -> None:
        self._personas[user_id] = persona

    def pick_many(self, requests: Sequence[PickRequest]) -> list[Decision]:
        sets, decisions = self.candidates_and_decisions(requests)
        for request, candidates, decision in zip(requests, sets, decisions, strict=True):
            self._diagnose(request, candidates, decision)
        return decisions

    @staticmethod
    def _ranked_by(
        persona: Persona, ids: I64, scores: Scores, truth: F64, *, personal: bool
    ) -> float:
        """The truth of the top candidate when the ranker's P(complete) is the persona's own
        with one side of its appeal flattened: the video's quality (``personal``: only the
        persona's parts tell the candidates apart) or everything else (only quality and
        length do)."""
        appeal = persona.appeal_mean(ids)
        quality = _quality_part(persona, ids)
        seen = _flattened(appeal, quality) if personal else _flattened(appeal, appeal - quality)
        completion = true_completion(persona, ids, seen)
        return float(truth[int(np.argmax(_with_true_completion(scores, completion)))])

    @staticmethod
    def _ranked_keeping(
        persona: Persona, ids: I64, scores: Scores, truth: F64, kept: tuple[str, ...]
    ) -> float:
        """The truth of the top candidate when the ranker's P(complete) is the persona's own
        with every part of its appeal but ``kept`` flattened over the candidates."""
        parts = _parts(persona, ids)
        seen = persona.appeal_mean(ids)
        for name, part in parts.items():
            if name not in kept:
                seen = _flattened(seen, part)
        completion = true_completion(persona, ids, seen)
        return float(truth[int(np.argmax(_with_true_completion(scores, completion)))])

    def _diagnose(self, request: PickRequest, candidates: CandidateSet, decision: Decision) -> None:
        persona = self._personas[request.viewer_id]
        allowed, _ = request.allowed()
        ids = candidates.ids
        scores = candidates.engine_scores
        truth = persona.expected_watch_s(ids)
        true = true_completion(persona, ids)
        by_id = dict(zip(ids.tolist(), truth.tolist(), strict=True))
        slate = [by_id[int(v)] for v in decision.slate_ids]
        truths = {
            "allowed": float(persona.expected_watch_s(allowed).max()),
            "retrieved": float(truth.max()),
            "base": float(truth[int(np.argmax(scores.base))]),
            "true p": float(truth[int(np.argmax(_with_true_completion(scores, true)))]),
            "quality only": self._ranked_by(persona, ids, scores, truth, personal=False),
            "personal only": self._ranked_by(persona, ids, scores, truth, personal=True),
            **{
                f"quality+{part}": self._ranked_keeping(
                    persona, ids, scores, truth, ("quality", part)
                )
                for part in ("topic", "taste", "language", "rest")
            },
            "multiplied": float(truth[int(np.argmax(scores.score))]),
            "reranked": slate[0],
            "expected": float(np.dot(decision.slate_probabilities, slate)),
        }
        spearman = (
            float(np.corrcoef(_ranks(scores.base), _ranks(truth))[0, 1]) if len(ids) > 2 else 0.0
        )
        PICKS.append(
            _Pick(
                onboarded=bool(persona.taste.onboarding),
                truths=truths,
                spearman=spearman,
                predicted=np.asarray(scores.p["complete"], dtype=np.float64).copy(),
                true=true,
                understood=float(persona.understands(ids).mean()),
                pick_understood=bool(persona.understands(np.array([decision.video_id]))[0]),
                pick_truth=float(persona.expected_watch_s(np.array([decision.video_id]))[0]),
                pick_source=candidates.sources[int(np.searchsorted(ids, decision.video_id))],
            )
        )


def report(picks: Sequence[_Pick]) -> None:
    """Print the per-stage truths and the prediction figures, overall and per group."""
    for group, keep in (
        ("all", lambda p: True),
        ("onboarded", lambda p: p.onboarded),
        ("cold", lambda p: not p.onboarded),
    ):
        chosen = [p for p in picks if keep(p)]
        if not chosen:
            continue
        print(f"\n{group}: {len(chosen)} picks; true expected watch per pick (s)")
        best = float(np.mean([p.truths["allowed"] for p in chosen]))
        previous = best
        for label, key in STAGES:
            value = float(np.mean([p.truths[key] for p in chosen]))
            if label.startswith(" "):  # what if: beside the stage above, not a stage
                gain = value - previous
                print(f"  {label:36s} {value:6.1f}   {gain:+5.1f} s over the stage above")
                continue
            lost = previous - value
            share = lost / best if best else 0.0
            print(f"  {label:36s} {value:6.1f}   lost here {lost:5.1f} ({share:4.0%} of the best)")
            previous = value
        predicted = np.concatenate([p.predicted for p in chosen])
        true = np.concatenate([p.true for p in chosen])
        slope = np.polyfit(predicted, true, 1)[0] if predicted.std() > 0 else float("nan")
        print(
            f"  P(complete) on candidates: corr with truth {np.corrcoef(predicted, true)[0, 1]:.3f}"
            f", slope of truth on prediction {slope:.2f}, mean predicted {predicted.mean():.3f}"
            f" vs true {true.mean():.3f}"
        )
        spearman = float(np.mean([p.spearman for p in chosen]))
        print(f"  Spearman(Σ P × value, true watch) within a pick, mean: {spearman:.3f}")
        _report_language(chosen)


def _report_language(chosen: Sequence[_Pick]) -> None:
    """How many picks the persona can understand, and what the others cost."""
    understood = np.array([p.pick_understood for p in chosen])
    truth = np.array([p.pick_truth for p in chosen])
    candidates = float(np.mean([p.understood for p in chosen]))
    line = (
        f"  in a language the persona understands: {understood.mean():.0%} of the picks "
        f"({candidates:.0%} of the candidates)"
    )
    if understood.any() and not understood.all():
        line += (
            f"; true expected watch of a pick {truth[understood].mean():.1f} s understood, "
            f"{truth[~understood].mean():.1f} s not"
        )
    print(line)
    # Which sources bring the picks the persona cannot follow: where language-aware
    # retrieval would still help.
    sources = Counter(p.pick_source for p in chosen)
    missed = Counter(p.pick_source for p in chosen if not p.pick_understood)
    shares = ", ".join(
        f"{name} {missed[name] / count:.0%} of {count}" for name, count in sources.most_common()
    )
    print(f"  not understood, by the pick's source: {shares}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--sessions", type=int, default=3)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument(
        "--formula", action="store_true", help="the hand-set formula instead of learned P"
    )
    parser.add_argument("--config", default=None, help="a ranking TOML for the engine")
    args = parser.parse_args()
    print(machine())
    print(f"at start: {load_now()}", flush=True)
    target = "benchmarks.diagnose_ranking:DiagnosedEngine"
    arm = Arm("engine", load_config(args.config), PolicySpec(target, {"learn": not args.formula}))
    spec = RunSpec(
        db_path=world(20_000),
        users=args.users,
        sessions=args.sessions,
        replicates=args.seeds,
        jobs=1,
        log=False,
    )
    with measured(f"{args.users} personas x {args.sessions} sessions x {args.seeds} seeds"):
        run_experiment(spec, [arm])
    # The policy is built by name, so its rows are in the imported module, not in __main__.
    from benchmarks import diagnose_ranking

    report(diagnose_ranking.PICKS)
    print(f"at end: {load_now()}")


if __name__ == "__main__":
    main()
