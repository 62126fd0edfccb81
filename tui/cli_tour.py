"""`foryou tour`: the guided demo (:mod:`tui.tour`); this module only parses its arguments.

After the tour it prints how long each chapter took and what its evidence showed, so a
presenter (and the tests) can tell a rehearsal went as planned.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from tui.cli_options import (
    STUDY_RUN,
    FiniteFloat,
    db_option,
    refuse_study_bundle,
    require_terminal,
    user_errors,
)

if TYPE_CHECKING:
    from tui.tour import ChapterLog

DEFAULT_PACE_S = 2.0  # tui.tour's, repeated so --help does not import Textual


@click.command()
@db_option
@click.option(
    "--pace",
    "pace_s",
    type=FiniteFloat(min=0.5, max=20.0),
    default=DEFAULT_PACE_S,
    show_default=True,
    metavar="S",
    help="Seconds each video stays on screen on autopilot.",
)
@click.option(
    "--autopilot/--me",
    "autopilot",
    default=True,
    show_default=True,
    help="--autopilot: hands off, the tour's viewer watches and reacts; --me: you sign up "
    "and drive with the feed's keys, each caption waiting for the evidence.",
)
def tour(db_path: Path, pace_s: float, autopilot: bool) -> None:
    """A guided demo: eight claims about the For You feed, each shown on the live feed.

    A caption bar says what to watch for and gives the takeaway once the evidence is on
    screen. ← → move between chapters, q ends with the session summary. From 160 columns the
    profile and the x-ray stay open beside the video.
    """
    from tui.tour_app import make_tour_app

    refuse_study_bundle(
        db_path, "the tour would add its viewer and an operator boost to it", STUDY_RUN
    )
    with user_errors():
        app = make_tour_app(db_path, autopilot=autopilot, pace_s=pace_s)
    require_terminal(app.engine.close)
    app.run()
    if app.tour is not None:
        click.echo(chapter_report(app.tour.log))
    if app.return_code:
        raise SystemExit(app.return_code)


def chapter_report(log: list[ChapterLog]) -> str:
    """One line per chapter: seconds taken and what its evidence showed."""
    lines = []
    total = 0.0
    for entry in log:
        total += entry.seconds
        shown = entry.shown if entry.shown is not None else "(evidence not reached)"
        lines.append(f"{entry.title:<52} {entry.seconds:6.1f} s  {shown}")
    lines.append(f"{'the whole tour':<52} {total:6.1f} s")
    return "\n".join(lines)
