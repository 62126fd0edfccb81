"""The autopilot: a simulated persona watches the feed live, pressing the keys a person would.

A presenter runs ``foryou feed --autopilot 3`` and talks over it: the persona (the simulator's
:class:`~engine.sim.Persona`, with a hidden taste) decides per video how long to watch and how
to react, and the autopilot turns that into key presses on the :class:`FeedScreen` - the same
``action_*`` methods a key calls, so every row lands in the database exactly as a person's
would. Each press shows as a key cap under the action rail. The persona watches as a simulated
viewer (``autopilot-3``), so its users and sessions rows are marked simulated like the
simulator's; it reacts more often than the calibrated simulation (:data:`DEMO_BEHAVIOUR`).

Pace: the video decides when. A skip is pressed at the second the persona leaves, a completion
when the video ends, a rewatch when its second loop ends; reactions are spread over what it
watched. Playback speed (``v``: 1×/2×/4×) and pause (``p``) therefore apply to the autopilot
too. A prompt the autopilot opens (a comment, "not interested in…", a report reason) stays up
for ``pace_s`` (divided by the playback speed) before it is answered, so the audience can read
it.

Handing back: any key, click or turn of the wheel hands control to the person at the keyboard,
except the keys that only change what is shown (``VIEW_KEYS``: pause, speed, why, profile,
x-ray, discover, settings, help), so a presenter can open the profile or the x-ray and watch
them converge while the persona keeps going, and ``q``, which quits. The key that takes over
does nothing else: what a person does must never be recorded as the simulated viewer, so the
persona's session ends (its viewing of the video on screen closes) and "who is watching" asks
which person is at the keyboard, or signs a new one up; their feed continues from there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual.timer import Timer
from textual.widgets import Input

from engine import Engine
from engine.reactions import NEGATIVE
from engine.sim import Behaviour, Persona, Reaction
from engine.text import printable
from engine.vocabulary import EventKind
from tui.playback import Playback
from tui.screens.prompts import ChoicePrompt, TextPrompt

if TYPE_CHECKING:
    from engine.world import World
    from tui.screens.feed import FeedScreen

DEFAULT_PACE_S = 1.0
TICKS_PER_S = 20
EPSILON_S = 1e-6
# Keys that change only what is shown: they leave the autopilot driving.
VIEW_KEYS = frozenset({"p", "v", "w", "i", "x", "d", "comma", "question_mark"})
# Keys that end the run: the autopilot stops and the summary (or the exit) follows.
QUIT_KEYS = frozenset({"q", "ctrl+c"})
# Persona action -> (key, FeedScreen action, what the key cap says).
KEYS: dict[str, tuple[str, str, str]] = {
    EventKind.LIKE: ("l", "like", "like"),
    EventKind.COMMENT: ("c", "comment", "comment"),
    EventKind.SHARE: ("s", "share", "share"),
    EventKind.SAVE: ("f", "save", "save"),
    EventKind.FOLLOW: ("F", "follow", "follow"),
    EventKind.NOT_INTERESTED: ("n", "not_interested", "nope"),
    EventKind.HIDE_CREATOR: ("h", "hide", "hide"),
    EventKind.REPORT: ("r", "report", "report"),
}
NEXT = ("j", "next", "next")
# The calibrated persona likes about 2% of what it sees: true to life, dull on a projector. The
# autopilot's persona reacts four times as often (and says "not interested" ten times as often),
# so a few minutes show every key; how long it watches what stays the calibrated model.
_CALIBRATED = Behaviour()
DEMO_BEHAVIOUR = replace(
    _CALIBRATED,
    like_rate=4 * _CALIBRATED.like_rate,
    share_rate=4 * _CALIBRATED.share_rate,
    save_rate=4 * _CALIBRATED.save_rate,
    comment_rate=4 * _CALIBRATED.comment_rate,
    follow_rate=4 * _CALIBRATED.follow_rate,
    not_interested_rate=10 * _CALIBRATED.not_interested_rate,
)
TOPIC_SEARCH = 5000  # seeds tried for a persona that loves a named topic
# After a negative reaction the feed moves on by itself (the closing skip is the feed's).
LEAVING = NEGATIVE


class AutopilotError(ValueError):
    """The autopilot cannot be set up as asked (an unknown persona, a person's viewer)."""


@dataclass(frozen=True)
class AutopilotSettings:
    """Who drives and how fast (what ``--autopilot [PERSONA] --autopilot-pace S`` ask for).

    Attributes:
        persona: A seed ("3": the same seed is the same hidden taste and the same draws) or a
            topic ("booktok", "BookTok": the first seed whose persona loves that topic).
        pace_s: Seconds a key cap stays lit and a prompt stays up before it is answered, at 1×.
    """

    persona: str = "0"
    pace_s: float = DEFAULT_PACE_S

    def cast(self, engine: Engine) -> Cast:
        """Draw the persona over the engine's world.

        Raises:
            AutopilotError: `persona` is neither a seed nor a topic, or no persona loving the
                topic turned up among the first :data:`TOPIC_SEARCH` seeds.
        """
        world = engine.catalog.world
        key = self.persona.strip()
        if key.isdigit():
            seed, viewer = int(key), f"autopilot-{int(key)}"
        else:
            try:
                topic = engine.catalog.topic_id(key)
            except ValueError:
                raise AutopilotError(
                    f"--autopilot takes a seed (0, 1, ...) or a topic, got {key!r}; "
                    f"topics: {', '.join(engine.topics())}"
                ) from None
            seed = _seed_loving(world, topic)
            viewer = f"autopilot-{world.topics.slug[topic]}"
        persona = Persona.draw(world, seed, DEMO_BEHAVIOUR)
        labels = engine.topic_labels()
        taste = persona.taste
        strongest_first = sorted(taste.loved.tolist(), key=lambda t: -taste.topic[t])
        loved = ", ".join(labels[world.topics.slug[t]] for t in strongest_first)
        return Cast(persona, viewer, printable(f"persona {seed}, loves {loved}"), self.pace_s)


def _seed_loving(world: World, topic: int) -> int:
    """The first seed whose persona loves the topic above all and names it at sign-up: the
    audience was told the feed will find that topic, so it must be the one to converge on."""
    for seed in range(TOPIC_SEARCH):
        taste = Persona.draw(world, seed).taste
        if int(taste.topic.argmax()) == topic and topic in taste.onboarding:
            return seed
    raise AutopilotError(
        f"no persona among the first {TOPIC_SEARCH} seeds loves {world.topics.slug[topic]!r}; "
        "give a seed instead"
    )


@dataclass(frozen=True)
class Cast:
    """The persona chosen for a run, and how the feed shows it.

    Attributes:
        persona: Who watches (its hidden taste stays hidden from the engine).
        viewer: The viewer it watches as when no ``--user`` is given.
        label: What the header says about it ("persona 3, loves Cooking, Pets"): the audience
            can check the profile panel converging on it.
        pace_s: Seconds a key cap stays lit and a prompt stays up, at 1×.
    """

    persona: Persona
    viewer: str
    label: str
    pace_s: float = DEFAULT_PACE_S

    def viewer_id(self, engine: Engine, user: str | None = None) -> int:
        """The viewer to drive: `user` if it is a simulated one, else the persona's own.

        The persona's own viewer is reused if it exists, else signed up as the persona would
        (its onboarding topics and locale), marked simulated like every row it then writes,
        so "who is watching" and analyses of people leave it out.

        Raises:
            AutopilotError: `user` is a person: a persona must not write into their history.
            ValueError: `user` is unknown.
        """
        if user is not None:
            user_id = engine.user_id(user)
            if not any(row["id"] == user_id and row["simulated"] for row in engine.users()):
                raise AutopilotError(
                    f"{user!r} is a person, and the autopilot writes only as a simulated "
                    f"viewer; leave out --user (the persona watches as {self.viewer})"
                )
            return user_id
        try:
            return engine.user_id(self.viewer)
        except ValueError:
            return engine.new_user(**self.persona.sign_up(), name=self.viewer)


@dataclass(frozen=True)
class Press:
    """One key the autopilot presses during a viewing.

    Attributes:
        at_s: Seconds into the viewing, loops included, when it is pressed.
        loops: Full loops the viewing must have reached first (1: completed, 2 or more:
            rewatched once or more).
        key: The key a person would press.
        action: The FeedScreen action it runs (``action_<action>``).
        label: What the key cap says it does.
        answer: What it answers in the prompt the key opens (a scope, a reason, a comment).
    """

    at_s: float
    loops: int
    key: str
    action: str
    label: str
    answer: str | None = None

    @property
    def leaves(self) -> bool:
        """The feed moves to the next video after this press."""
        return self.action in ("next", "not_interested", "hide", "report")


def plan(
    reaction: Reaction, duration_s: float, *, liked: bool, saved: bool, following: bool
) -> list[Press]:
    """The key presses that do in the feed what a persona did with a video, in order.

    The closing ``skip`` or ``complete`` becomes ``j`` at the second the persona left (the
    feed records the skip with the seconds played, or the completion itself); a ``rewatch``
    becomes staying to the end of one more loop (each rewatch, one loop). Reactions are spread
    over the part watched.
    A "not interested", hide or report is pressed at the second the persona left instead of
    ``j``: the feed moves on after it, so only the first is pressed. Likes, saves and follows
    the viewer already has are left out (their keys would undo them).

    Args:
        reaction: What the persona did (:meth:`Persona.react`).
        duration_s: The video's length.
        liked: The viewer already likes the video.
        saved: The viewer already saved it.
        following: The viewer already follows its creator.

    Returns:
        The presses, in the order and at the moments to make them.
    """
    kinds = [kind for kind, _ in reaction.actions]
    if "complete" in kinds:
        loops = 1 + kinds.count("rewatch")  # a persona may loop a video more than once
        leave_s = loops * duration_s
    else:
        loops = 0
        leave_s = float(next(a["watched_s"] for kind, a in reaction.actions if kind == "skip"))
    done = {"like": liked, "save": saved, "follow": following}
    reactions = [
        (kind, args)
        for kind, args in reaction.actions
        if kind in KEYS and kind not in LEAVING and not done.get(kind, False)
    ]
    first_loop_s = min(leave_s, duration_s)
    presses = [
        Press(
            round(first_loop_s * n / (len(reactions) + 1), 2),
            0,
            *KEYS[kind],
            answer=args.get("text"),
        )
        for n, (kind, args) in enumerate(reactions, 1)
    ]
    leaving = next(((k, a) for k, a in reaction.actions if k in LEAVING), None)
    if leaving is None:
        presses.append(Press(leave_s, loops, *NEXT))
    else:
        kind, args = leaving
        answer = args.get("scope") or args.get("reason")
        presses.append(Press(leave_s, loops, *KEYS[kind], answer=answer))
    return presses


def viewing_s(playback: Playback) -> float:
    """Seconds into a viewing, loops included."""
    return playback.position_s + loops_of(playback) * playback.duration_s


def loops_of(playback: Playback) -> int:
    """Full loops a viewing has reached."""
    return int(playback.completed) + playback.rewatches


def plan_note(presses: list[Press], duration_s: float) -> str:
    """What the key cap says the persona will do with the video: "for 7.2 s", "to the end"."""
    leaving = presses[-1]
    if leaving.loops >= 2:
        return "watch twice" if leaving.loops == 2 else f"watch {leaving.loops} times"
    if leaving.loops == 1:
        return "to the end"
    return f"for {leaving.at_s:.1f} s"


@dataclass
class _Prompt:
    """A prompt the autopilot opened and will answer."""

    press: Press
    since_s: float  # autopilot time it was opened (or typed into)
    seen: bool = False  # it has been on screen
    typed: bool = False  # the comment is in the box, waiting to be sent


class Autopilot:
    """Drives one feed screen with a persona until a person takes over."""

    def __init__(
        self, screen: FeedScreen, cast: Cast, hand_over: Callable[[str], None] | None = None
    ) -> None:
        """Create the autopilot (it starts with :meth:`start`).

        Args:
            screen: The mounted feed screen it drives.
            cast: Who watches, and at what pace.
            hand_over: Called with what to tell the person when it stops driving for them:
                the app switches to a person's viewer there. None: only say it.
        """
        self.screen = screen
        self._hand_over = hand_over
        self.persona = cast.persona
        self.name = cast.label
        self.pace_s = cast.pace_s
        self.running = False
        self.reactions: list[Reaction] = []  # what the persona did, video by video
        self._presses: deque[Press] = deque()
        self._viewing: Playback | None = None
        self._viewed: tuple[int, int] | None = None  # (history index, impression) of it
        self._leaving = False  # the last press moves the feed on
        self._prompt: _Prompt | None = None
        self._now_s = 0.0  # seconds the autopilot has run
        self._timer: Timer | None = None
        self._sub_title = ""
        self._last_tick_s = 0.0

    def start(self, *, live: bool = True) -> None:
        """Take the wheel: watch the video on screen now.

        Args:
            live: Run on a timer; off for tests, which call :meth:`step`.
        """
        self.running = True
        self._viewing = self._viewed = self._prompt = None  # whatever is on screen is new to it
        self._presses.clear()
        self._sub_title = self.screen.sub_title or ""
        self.screen.sub_title = f"{self._sub_title} · autopilot (any key takes over)"
        self.screen.notify(
            f"Autopilot: {self.name}. Any key but p v w i x d , ? takes over.",
            title="autopilot",
            timeout=6,
            markup=False,
        )
        if live:
            self._last_tick_s = self.screen.clock()
            self._timer = self.screen.set_interval(1 / TICKS_PER_S, self._tick)
        self.step(0.0)

    def hand_back(self, why: str = "You have control: the autopilot is off.") -> None:
        """Stop driving and hand the feed to the person (see ``hand_over``); safe to call more
        than once."""
        if not self.running:
            return
        self.stop()
        self.screen.sub_title = self._sub_title
        self.screen.hide_keys()
        if self._hand_over is None:
            self.screen.notify(why, timeout=4, markup=False)
        else:
            self._hand_over(why)

    def stop(self) -> None:
        """Stop driving, silently (the feed is closing)."""
        self.running = False
        if self._timer is not None:
            self._timer.stop()

    def takes_over(self, key: str | None) -> bool:
        """Whether a person's key (None: a click or the wheel) takes over from the autopilot.

        Keys that only change what is shown and the quit keys leave it driving; anything else
        on the feed or on a prompt the autopilot opened takes over, before it acts.
        """
        passing = key in VIEW_KEYS or key in QUIT_KEYS
        return self.running and self._on_our_screens() and not passing

    # -- driving ----------------------------------------------------------------------------

    def _tick(self) -> None:
        now = self.screen.clock()
        elapsed, self._last_tick_s = now - self._last_tick_s, now
        self.step(elapsed)

    def step(self, wall_s: float) -> None:
        """Let `wall_s` seconds pass and press what is due (the timer calls this).

        Args:
            wall_s: Wall-clock seconds since the last step.
        """
        if not self.running:
            return
        self._now_s += wall_s
        if self._prompt is not None:
            self._answer(self._prompt)
        elif self.screen.app.screen is self.screen:  # not while a person reads "why" and such
            self._watch()

    def due_in(self) -> float:
        """Wall seconds until the next press is due, at the current speed (for stepping)."""
        if self._prompt is not None:
            return max(self._pace_s() - (self._now_s - self._prompt.since_s), 0.0)
        if not self._presses:
            return 0.0
        press, playback = self._presses[0], self.screen.session.playback
        wait_s = max(press.at_s - viewing_s(playback), 0.0) / playback.speed
        return wait_s + (EPSILON_S if loops_of(playback) < press.loops else 0.0)

    def _pace_s(self) -> float:
        """The pace at the current playback speed: ``v`` speeds up the prompts too."""
        return self.pace_s / self.screen.session.speed

    def _on_our_screens(self) -> bool:
        screen = self.screen.app.screen
        return screen is self.screen or (self._prompt is not None and self._prompt.seen)

    def _watch(self) -> None:
        session = self.screen.session
        if session.playback is not self._viewing and not self._begin_viewing():
            return
        if not self._presses:
            return
        press, playback = self._presses[0], session.playback
        if loops_of(playback) >= press.loops and viewing_s(playback) >= press.at_s - EPSILON_S:
            self._presses.popleft()
            self._press(press)

    def _begin_viewing(self) -> bool:
        """A new viewing is on screen: let the persona decide what to do with it."""
        session = self.screen.session
        current, video = session.current, session.video
        if current is None or video is None:
            self.hand_back("The autopilot stopped: nothing to watch. You have control.")
            return False
        viewed = (session.index, current.impression_id)
        if self._viewing is not None and not self._leaving:
            self.hand_back()  # something else moved the feed
            return False
        if self._viewing is not None and viewed == self._viewed:
            self.hand_back("The autopilot stopped: the feed has nothing new. You have control.")
            return False
        self._viewing, self._viewed, self._leaving = session.playback, viewed, False
        reaction = self.persona.react(video)
        self.reactions.append(reaction)
        presses = plan(
            reaction,
            video.duration_s,
            liked=video.id in session.liked,
            saved=video.id in session.saved,
            following=video.creator_handle in session.follows,
        )
        self._presses = deque(presses)
        self.screen.annotate_keys(plan_note(presses, video.duration_s))
        if reaction.leaves:
            self._session_ends()
        return True

    def _session_ends(self) -> None:
        """The persona would put the phone down here; for the audience it carries on."""
        depth = self.persona.depth
        self.persona.end_session()
        self.screen.notify(
            f"{self.name} would close the app after this video ({depth} watched); "
            "carrying on as a new session.",
            timeout=4,
            markup=False,
        )

    def _press(self, press: Press) -> None:
        self.screen.show_key(press.key, press.label, lit_s=self._pace_s())
        self._leaving = press.leaves
        if press.action in ("comment", "not_interested", "report"):
            self._prompt = _Prompt(press, self._now_s)
        getattr(self.screen, f"action_{press.action}")()

    def _answer(self, prompt: _Prompt) -> None:
        """Answer the prompt the autopilot opened once it has been up for the pace."""
        screen = self.screen.app.screen
        if not isinstance(screen, (ChoicePrompt, TextPrompt)):
            if prompt.seen:  # it closed without our answer: a person answered it
                self._prompt = None
                self.hand_back()
            return
        prompt.seen = True
        if self._now_s - prompt.since_s < self._pace_s() - EPSILON_S:
            return
        answer = prompt.press.answer or ""
        if isinstance(screen, TextPrompt):
            self._type(screen, prompt, answer)
            return
        values = [value for value, _ in screen.options]
        index = values.index(answer) if answer in values else len(values) - 1
        self._prompt = None
        self.screen.show_key(str(index + 1), answer, lit_s=self._pace_s())
        screen.action_choose(index)

    def _type(self, screen: TextPrompt, prompt: _Prompt, text: str) -> None:
        """Type the comment, and send it a pace later (as Enter would)."""
        box = screen.query_one(Input)
        if not prompt.typed:
            box.value = text
            prompt.typed, prompt.since_s = True, self._now_s
            return
        self._prompt = None
        self.screen.show_key("⏎", "send", lit_s=self._pace_s())
        box.post_message(Input.Submitted(box, box.value))
