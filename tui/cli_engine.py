"""Engine commands: `recommend`, `explain`, `config show|validate`, `boost`.

They print receipts for people who want to see why the engine picks what it picks without
opening the feed.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from engine import Engine, NothingToRecommendError, Receipt, Recommendation
from engine.config import effective_toml, load_config
from engine.policy import PolicySpec
from engine.text import printable
from tui.cli_options import (
    FiniteFloat,
    IntegerRange,
    config_option,
    db_option,
    policy_option,
    refuse_study_bundle,
    user_errors,
)

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
# The last minute datetime can show, so a boost's end prints as a local date and time.
LATEST_UNIX = datetime(9999, 12, 31, 23, 59).timestamp()
# recommend's ceiling: a pick with its receipt takes ~15 ms and ~1.4 kB of output on the demo
# world, so 1,000 is ~15 s and a page a person can still read; 100,000 ran for minutes (and
# without --dry-run recorded every pick as served).
MAX_PICKS = 1_000


def receipt_table(receipt: Receipt, title: str) -> Table:
    """Every score term of a receipt, the way `foryou explain` shows it."""
    table = Table(title=title, title_justify="left", box=None)
    table.add_column("action")
    table.add_column("P(action)", justify="right")
    table.add_column("value", justify="right")
    table.add_column("= adds", justify="right")
    for action, term in receipt.terms.items():
        table.add_row(
            action, f"{term['p']:.4f}", f"{term['value']:+.2f}", f"{term['contribution']:+.4f}"
        )
    table.add_row("expected value", "", "", f"{receipt.base_score:+.4f}", style="bold")
    return table


def print_receipt(console: Console, receipt: Receipt, heading: str) -> None:
    # Captions, handles and boost reasons come from the file: no escapes, no markup, and no
    # emoji codes (Rich turns a str's ":fire:" into an emoji; a Text is printed as it is).
    console.print(Text(printable(heading, keep_newlines=True), style="bold"))
    for line in receipt.reasons():
        console.print(Text(f"  • {printable(line)}"))
    funnel = receipt.funnel
    proposed = ", ".join(f"{k} {v}" for k, v in funnel.proposed.items() if v)
    removed = ", ".join(f"{k} {v}" for k, v in funnel.removed.items() if v)
    console.print(f"  funnel: proposed {proposed} → {funnel.merged} distinct")
    console.print(f"          filtered out: {removed or 'nothing'} → {funnel.kept} kept")
    blocked = ", ".join(f"{k} {v}" for k, v in funnel.diversity_blocked.items() if v)
    console.print(f"          diversity held back: {blocked or 'nothing'} → slate {funnel.slate}")
    features = ", ".join(f"{k} {v:+.2f}" for k, v in receipt.features.items() if v)
    console.print(f"  affinity z = {receipt.affinity:+.2f} ({features or 'no signal yet'})")
    console.print(receipt_table(receipt, "  score terms"))
    mults = ", ".join(f"{k} ×{v:g}" for k, v in receipt.multipliers.items())
    console.print(
        f"  multipliers: {mults}; author penalty ×{receipt.author_penalty:g} → score "
        f"{receipt.score:.4f}, rank {receipt.rank + 1}, propensity {receipt.propensity:.4f}"
    )


@click.command()
@db_option
@click.option("--user", "user_name", required=True, help="Viewer name.")
@click.option(
    "-n",
    "count",
    type=IntegerRange(1, MAX_PICKS),
    default=10,
    show_default=True,
    help=f"How many picks, at most {MAX_PICKS:,}.",
)
@config_option
@click.option("--create", is_flag=True, help="Create the viewer if it does not exist.")
@click.option("--dry-run", is_flag=True, help="Do not record the picks as served.")
@policy_option
def recommend(
    db_path: Path,
    user_name: str,
    count: int,
    config_path: Path | None,
    create: bool,
    dry_run: bool,
    policy: PolicySpec | None,
) -> None:
    """Print a viewer's next picks with their receipts (served, not seen)."""
    if create or not dry_run:
        refuse_study_bundle(
            db_path,
            "recommend would record its picks (and --create a viewer) outside the study",
            "look with --dry-run and without --create",
        )
    console = Console()
    log = not dry_run
    with user_errors(), Engine.open(db_path, config_path, log=log, policy=policy) as eng:
        try:
            uid = eng.user_id(user_name)
        except ValueError:
            if not create:
                raise
            uid = eng.new_user(name=user_name)
        for i in range(count):
            rec = _next(eng, uid)
            v = rec.video
            # A dry run's impression is numbered but never stored: `explain` would not find it.
            impression = f"impression {rec.impression_id}" if log else "not stored"
            heading = (
                f"{i + 1}. video {v.id} · {v.topic_name} · @{v.creator_handle} · "
                f"{v.duration_s:.0f} s · {impression}\n   {v.caption}"
            )
            print_receipt(console, rec.receipt, heading)


def _next(eng: Engine, uid: int) -> Recommendation:
    """The viewer's next pick; a viewer with nothing left is told so as the feed tells them."""
    from tui.session import nothing_left

    try:
        return eng.next(uid)
    except NothingToRecommendError as error:
        raise click.ClickException(nothing_left(error)) from None


@click.command()
@db_option
@click.argument("impression_id", type=int)
def explain(db_path: Path, impression_id: int) -> None:
    """Print the stored receipt of one impression."""
    with user_errors(), Engine.open(db_path, log=False) as eng:
        receipt = eng.explain(impression_id)
        video = eng.video(receipt.video_id)
        pick = eng.revisited_pick(impression_id)
    console = Console()
    shown = f"impression {impression_id}"
    if pick is not None:
        # A revisit carries the receipt of the pick it returns to: read without this line, it
        # would pass for a second decision of the policy, which it is not.
        console.print(
            f"impression {impression_id} is a revisit of impression {pick} (the viewer went "
            "back to it); the receipt below is the original pick's",
            highlight=False,
        )
        shown = f"impression {pick} (revisited as {impression_id})"
    print_receipt(console, receipt, f"{shown}: video {video.id} · {video.caption}")


@click.group()
def config() -> None:
    """Show or validate ranking configs."""


@config.command("show")
@click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
def config_show(path: Path | None) -> None:
    """Print the effective config (a file's values over the defaults)."""
    with user_errors():
        click.echo(effective_toml(load_config(path)), nl=False)


@config.command("validate")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def config_validate(path: Path) -> None:
    """Check a config file; a one-line error names the bad key."""
    with user_errors():
        load_config(path)
    click.echo(f"{path}: ok")


def world_time(text: str, now_world: float, epoch_unix: float) -> float:
    """A boost end given as a duration from now ("90m", "24h", "3d") or an ISO date-time.

    Checked before the boost is written: the end must come after now and be a date a person
    can read back (its receipt and this command print it), so up to the end of year 9999.

    Raises:
        ValueError: neither form, or an end outside that range; the message names --until.
    """
    end = _until(text, now_world, epoch_unix)
    if not now_world < end <= LATEST_UNIX - epoch_unix:  # also refuses nan and inf
        raise ValueError(
            f"--until {text!r} is out of range: the boost must end after now and by "
            f"{datetime.fromtimestamp(LATEST_UNIX):%Y-%m-%d %H:%M}"
        )
    return end


def _until(text: str, now_world: float, epoch_unix: float) -> float:
    match = _DURATION.match(text.strip())
    if match:
        return now_world + float(match[1]) * _UNIT_S[match[2]]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--until {text!r}: give a duration like 24h or an ISO time like 2026-12-01T18:00"
        ) from None
    try:
        return moment.timestamp() - epoch_unix
    except (ValueError, OverflowError):  # before year 1 once in local time: out of range
        return math.nan


@click.command()
@db_option
@click.argument("video_id", type=int)
@click.option("--weight", type=FiniteFloat(), required=True, help="Score multiplier, e.g. 3.")
@click.option("--until", "until", required=True, help="Duration (24h, 3d) or ISO time.")
@click.option("--reason", required=True, help="Why: shown to every viewer in 'why this'.")
@click.option("--by", "by", default="operator", show_default=True, help="Who boosts.")
def boost(db_path: Path, video_id: int, weight: float, until: str, reason: str, by: str) -> None:
    """Boost ("heat") a video; unlike TikTok's, every boost is disclosed in the receipt."""
    refuse_study_bundle(
        db_path,
        "a study's feeds apply no operator boost (heating belongs to one condition)",
        "heat a condition with `boost = { videos = [...] }` in the study file",
    )
    with user_errors(), Engine.open(db_path) as eng:
        now, epoch_unix = eng.now, eng.catalog.world.epoch_unix
        end = world_time(until, now, epoch_unix)
        boost_id = eng.boost(video_id, weight=weight, until=end, reason=reason, by=by)
    click.echo(
        f"boost {boost_id}: video {video_id} ×{weight:g} "
        f"until {local_time(end, epoch_unix)} ({relative(end - now)})"
    )


def local_time(world_s: float, epoch_unix: float) -> str:
    """A world time as the local date and time a person reads, e.g. ``2026-12-05 21:14``."""
    return datetime.fromtimestamp(epoch_unix + world_s).strftime("%Y-%m-%d %H:%M")


def relative(seconds: float) -> str:
    """A span from now in the largest fitting units: ``in 1 d 2 h``, ``in 45 min``, ``3 h ago``."""
    minutes = round(abs(seconds) / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n} {unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "min")) if n]
    span = " ".join(parts[:2]) or "0 min"
    return f"{span} ago" if seconds < 0 else f"in {span}"
