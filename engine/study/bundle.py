"""A study bundle: one SQLite file with the world, the study, its configs and every log.

:func:`engine.study.create_bundle` writes a validated study into a fresh world file;
:func:`open_bundle` gives the :class:`StudyBundle` the study flow runs on, step by step:

    bundle = open_bundle("study.db")
    enrolment = bundle.enrol("P017")            # new, or where an earlier run stopped
    bundle.record_consent("P017", agreed=True)  # allocates the condition
    bundle.record_answers("P017", "pre", {"age": "25-34"})
    with bundle.open_feed("P017", interests=["cooking"]) as feed:
        while not feed.over(): ...              # feed.next(), feed.seen(), feed.record()
    bundle.record_answers("P017", "post", {...})
    debrief = bundle.debrief("P017")
    code = bundle.finish("P017")

A participant is a row, never duplicated: a second run with the same id resumes where the
first stopped, except after a declined consent, which is refused.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from engine.api import Engine
from engine.clock import Clock, WallClock
from engine.config import Config
from engine.heating import condition_boosts
from engine.pipeline import Boost
from engine.store import Store
from engine.store.forget import (
    FileInUseError,
    forget_participant,
    overwrite_freed,
    processes_holding,
)
from engine.store.study_log import StudyLog
from engine.study.allocation import allocate
from engine.study.claims import Claims
from engine.study.debrief import Debrief, build_debrief
from engine.study.definition import Condition, Study, StudyError, check_participant_id
from engine.study.feed import Feed, FirstReading
from engine.study.forget import live_stat_share
from engine.study.questionnaire import encode_answer
from engine.study.status import StudyStatus, study_status

__all__ = ["Enrolment", "StudyBundle", "open_bundle"]

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


@dataclass(frozen=True)
class Enrolment:
    """Where a participant stands, and what the interface shows next.

    ``next_step`` is one of: consent, pre, onboarding, feed, post, debrief, finish, done.
    ``condition`` is for the record only: participants never see it.
    """

    participant: str
    status: str  # new | declined | consented | in_feed | after_feed | completed
    next_step: str
    resumed: bool  # an earlier run with this id exists
    condition: str | None = None
    config: Config | None = None
    controls: tuple[str, ...] = ()
    boost_disclosed: bool | None = None
    user_id: int | None = None


def open_bundle(path: str | Path) -> StudyBundle:
    """Open a study bundle.

    Raises:
        StudyError: the file is a world without a study.
        StoreError: the file is missing, foreign or from a newer foryou.
    """
    store = Store.open(path)
    try:
        row = StudyLog(store.db).study()
        if row is None:
            raise StudyError(f"{path} holds no study; make one with `foryou study init`")
        return StudyBundle(store, _stored_study(path, row["resolved"]), int(row["id"]))
    except BaseException:
        store.close()
        raise


def _stored_study(path: str | Path, resolved: str) -> Study:
    """The bundle's copy of its study. An older foryou let ``inf`` through into it (written as
    JSON null), which no foryou can read back: one line, not a traceback."""
    try:
        return Study.from_json(resolved)
    except msgspec.ValidationError as exc:
        raise StudyError(
            f"{path}: its study definition cannot be read ({exc}); make the bundle again "
            "with `foryou study init`"
        ) from None


class StudyBundle:
    """An open study bundle (one connection: use it from one thread)."""

    def __init__(self, store: Store, study: Study, study_id: int) -> None:
        self.store = store
        self.path = store.path
        self.study = study
        self.study_id = study_id
        self._log = StudyLog(store.db)
        self._condition_ids = {c["name"]: int(c["id"]) for c in self._log.conditions()}
        self._claims = Claims(store.path)

    def close(self) -> None:
        self._claims.release()
        self.store.close()

    def claim(self, participant: str) -> None:
        """Run this participant here only, until the bundle closes (``open_feed`` claims too).

        Raises:
            StudyError: the participant is running in another process.
        """
        self._lookup(participant)
        self._claims.claim(participant)

    def __enter__(self) -> StudyBundle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- enrolment and consent ---------------------------------------------------------------

    def enrol(self, participant: str) -> Enrolment:
        """Where this participant stands; writes nothing.

        Raises:
            StudyError: a malformed id, or a participant who declined consent earlier.
        """
        row = self._lookup(participant)
        if row is None:
            return Enrolment(participant, "new", "consent", resumed=False)
        if row["status"] == "declined":
            raise StudyError(
                f"participant {participant} declined consent earlier; this id cannot take "
                "part again"
            )
        condition = self.study.condition(str(row["condition"]))
        return Enrolment(
            participant=participant,
            status=str(row["status"]),
            next_step=self._next_step(row),
            resumed=True,
            condition=condition.name,
            config=condition.config,
            controls=condition.controls,
            boost_disclosed=None if condition.boost is None else condition.boost.disclosed,
            user_id=row["user_id"],
        )

    def _next_step(self, row: Mapping[str, Any]) -> str:
        status = row["status"]
        if status == "completed":
            return "done"
        if status == "consented":
            return "pre" if not self._complete(row, "pre") else "onboarding"
        if row["feed_ended_at"] is None:
            return "feed"
        if not self._complete(row, "post"):
            return "post"
        return "debrief" if self.study.debrief else "finish"

    def _complete(self, row: Mapping[str, Any], phase: str) -> bool:
        """Every required item answered; a questionnaire of optional items only must also have
        been submitted (possibly empty), or a participant who left on it would never see it."""
        items = self.study.items(phase)
        answered = self._log.answers(int(row["id"]), phase)
        if not all(i.id in answered for i in items if i.required):
            return False
        optional_only = bool(items) and not any(i.required for i in items)
        return not optional_only or row[f"{phase}_submitted_at"] is not None

    def record_consent(
        self, participant: str, agreed: bool, *, station: str | None = None
    ) -> Enrolment:
        """Record the consent decision. Declining records nothing but the decline; agreeing
        allocates a condition (balanced block randomisation).

        Raises:
            StudyError: a malformed id or one that already has a decision.
        """
        if self._lookup(participant) is not None:
            raise StudyError(f"participant {participant} has already answered the consent")
        if not agreed:
            self._log.record_decline(
                study_id=self.study_id, participant=participant, station=station, at=time.time()
            )
            return Enrolment(participant, "declined", "done", resumed=False)
        self._log.record_consent(
            study_id=self.study_id,
            participant=participant,
            station=station,
            at=time.time(),
            allocate=lambda index: self._condition_ids[allocate(self.study, index)],
        )
        return self.enrol(participant)

    def _lookup(self, participant: str) -> dict[str, Any] | None:
        """The participant's row, or None for a new id, which must be a pseudonymous code.

        Raises:
            StudyError: a new id that is not a code. An id recorded before the rule was as
                strict as it is now stays usable: it can be continued, exported and forgotten.
        """
        row = self._log.participant(participant)
        if row is None:
            check_participant_id(participant)
        return row

    def _row(self, participant: str) -> dict[str, Any]:
        row = self._lookup(participant)
        if row is None:
            raise StudyError(f"unknown participant {participant}")
        if row["status"] == "declined":
            raise StudyError(f"participant {participant} declined consent")
        return row

    # -- questionnaires ----------------------------------------------------------------------

    def record_answers(self, participant: str, phase: str, answers: Mapping[str, Any]) -> None:
        """Store questionnaire answers (all or some items; answering again corrects). Each call
        is a submission: a questionnaire of optional items only is done once one was made,
        even an empty one.

        Values: Likert -> int point 1..scale; choice -> option text (a list of options when
        ``multiple``); text -> str. None skips an optional item.

        Raises:
            StudyError: an unknown item or invalid value (naming the item), or answers outside
                their phase (pre before the feed starts, post once it is over).
        """
        row = self._row(participant)
        items = {item.id: item for item in self.study.items(phase)}
        open_now = row["status"] == "consented" if phase == "pre" else row["status"] == "after_feed"
        if not open_now:
            raise StudyError(f"the {phase}-questionnaire is not open for participant {participant}")
        values = {}
        for item_id, value in answers.items():
            item = items.get(item_id)
            if item is None:
                raise StudyError(f"{phase}: unknown item {item_id!r}")
            if value is None and not item.required:
                continue
            values[item_id] = encode_answer(item, value, phase)
        self._log.save_answers(int(row["id"]), phase, values, time.time())

    def answers(self, participant: str, phase: str) -> dict[str, str]:
        """The stored answers of one phase, as text."""
        self.study.items(phase)
        return self._log.answers(int(self._row(participant)["id"]), phase)

    # -- the feed ----------------------------------------------------------------------------

    def open_feed(
        self,
        participant: str,
        *,
        interests: list[str] | tuple[str, ...] = (),
        language: str = "en",
        country: str = "US",
        clock: Clock | None = None,
    ) -> Feed:
        """Open the participant's feed in their condition (resuming an unfinished one).

        Onboarding (``interests``, ``language``, ``country``) applies the first time only.

        Raises:
            StudyError: the pre-questionnaire is incomplete, or the feed is already over.
            ValueError: an unknown topic or a malformed language or country.
        """
        row = self._row(participant)
        step = self._next_step(row)
        if step == "pre":
            raise StudyError(f"participant {participant} has not completed the pre-questionnaire")
        if step not in ("onboarding", "feed"):
            raise StudyError(f"the feed of participant {participant} is over")
        condition = self.study.condition(str(row["condition"]))
        self.claim(participant)
        # Claimed: a run still open is one whose process died; it ends where its activity did.
        self._log.close_dead_runs(int(row["id"]))
        reading = FirstReading(clock or WallClock(float(self.store.meta()["epoch_unix"])))
        heating = condition_boosts(msgspec.to_builtins(condition.boost))
        # The condition's heating is its only one: the file's boosts table would heat every
        # condition alike (README, "Studies").
        engine = Engine.open(
            self.path,
            condition.config,
            clock=reading,
            condition=condition.name,
            boosts=heating,
            operator_boosts=False,
        )
        try:
            return self._start_run(
                engine, row, condition, heating, reading, interests, language, country
            )
        except BaseException:
            engine.close()
            raise

    def _start_run(
        self,
        engine: Engine,
        row: Mapping[str, Any],
        condition: Condition,
        heating: list[Boost],
        reading: FirstReading,
        interests: list[str] | tuple[str, ...],
        language: str,
        country: str,
    ) -> Feed:
        participant_id = int(row["id"])
        log = StudyLog(engine.store.db)
        user_id = row["user_id"]
        if user_id is None:
            name = str(row["participant"])
            # A run that died between creating the viewer and linking it left the viewer.
            user_id = engine.store.user_id_by_name(name)
            if user_id is None:
                user_id = engine.new_user(interests, language, country, name=name)
            log.start_feed(participant_id, user_id, time.time())
        assert reading.first is not None  # the engine read its clock when it opened
        run_id = log.open_run(participant_id, int(user_id), time.time(), reading.first)
        return Feed(
            engine=engine,
            user_id=int(user_id),
            participant_id=participant_id,
            run_id=run_id,
            opened_world_t=reading.first,
            length=self.study.session,
            controls=condition.controls,
            boost_disclosed=None if condition.boost is None else condition.boost.disclosed,
            heated={boost.video_id: boost.weight for boost in heating},
            earlier_s=log.feed_seconds(participant_id),
        )

    # -- the end -----------------------------------------------------------------------------

    def debrief(self, participant: str) -> Debrief:
        """The participant's interest trajectory and what the engine assumed about them.

        Raises:
            StudyError: the participant has not reached the feed.
        """
        row = self._row(participant)
        if row["user_id"] is None:
            raise StudyError(f"participant {participant} has not watched anything yet")
        config = self.study.condition(str(row["condition"])).config
        return build_debrief(self.path, participant, int(row["user_id"]), config)

    def finish(self, participant: str) -> str:
        """Mark the participant completed and return their completion code (again if done).

        Raises:
            StudyError: the feed is not over or the post-questionnaire is incomplete.
        """
        row = self._row(participant)
        if row["status"] == "completed":
            return str(row["completion_code"])
        if self._next_step(row) not in ("debrief", "finish"):
            raise StudyError(
                f"participant {participant} cannot finish yet (next: {self._next_step(row)})"
            )
        code = self._new_code()
        self._log.finish(int(row["id"]), time.time(), code)
        return code

    def completion_code(self, participant: str) -> str:
        """The code of a completed participant.

        Raises:
            StudyError: the participant has not completed the study.
        """
        row = self._row(participant)
        if row["status"] != "completed":
            raise StudyError(f"participant {participant} has not completed the study")
        return str(row["completion_code"])

    def _new_code(self) -> str:
        spec = self.study.completion_code
        if isinstance(spec, str):
            return spec
        body = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(spec.length))
        return spec.prefix + body

    # -- researchers -------------------------------------------------------------------------

    def status(self) -> StudyStatus:
        """Participants per condition, completed, and median duration."""
        return study_status(self.study, self._log.participants())

    def forget(self, participant: str) -> dict[str, int]:
        """Delete every row about a participant (see :mod:`engine.study.forget`).

        Returns:
            Rows deleted per table.

        Raises:
            StudyError: an unknown participant, one running in another process, or another
                process reading the file (then nothing is deleted, or, if that reader began
                during the delete, the rows are gone but their bytes are still in the file;
                the message says which, and running ``forget`` again finishes it).
        """
        row = self._lookup(participant)
        if row is None:
            # An earlier forget may have deleted this participant with a reader still open:
            # overwrite what it freed before saying there is nobody to forget.
            if not overwrite_freed(self.store.db):
                raise self._in_use(participant, processes_holding(self.store.db), deleted=True)
            raise StudyError(f"unknown participant {participant}")
        self.claim(participant)
        user_id = row["user_id"]
        share = {}
        if user_id is not None:
            _, events = self.store.history(int(user_id))
            share = live_stat_share(events)
        try:
            return forget_participant(
                self.store.db, participant_id=int(row["id"]), user_id=user_id, stat_deltas=share
            )
        except FileInUseError as busy:
            raise self._in_use(participant, busy.holders, deleted=bool(busy.deleted)) from None

    def _in_use(self, participant: str, holders: list[str], *, deleted: bool) -> StudyError:
        who = ", ".join(holders) if holders else "a process this user cannot see"
        if not deleted:
            # A feed left open would also write back what it learned from them when it ends.
            return StudyError(
                f"{self.path.name} is open in another process ({who}); nothing was deleted: "
                f"close it (a feed: let it end) and run again"
            )
        return StudyError(
            f"another process has {self.path.name} open ({who}): {participant}'s rows are "
            "deleted but their bytes are not overwritten yet; close it and run again"
        )
