"""The x-ray side panel: how this pick was made, from candidates per source down to one video."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from engine import Receipt, Video
from engine.receipt import Funnel

SLATE_ROWS = 8  # the receipt keeps the top 8 of the slate
ABOUT_WIDTH = 24  # a finalist's topic, creator and caption lines, under its figures
LABEL_WIDTH = 20
COUNT_WIDTH = 5
BACK_TO_BACK = "same creator or sound as the last video"  # the re-rank's rule, by its name
# The engine's own names, where they do not fit the panel or read like jargon.
WORDS = {
    "served recently, not seen": "served but not seen",
    "duplicate of a seen video": "copy of a seen video",
    BACK_TO_BACK: "same creator/sound as the last video",
    "topic cap": "topic seen too often",
}


def count_row(name: str, count: int | str, style: str = "") -> Content:
    """`  label    count`, the label wrapped (never cut) with the count on its last line."""
    lines = textwrap.wrap(WORDS.get(name, name), LABEL_WIDTH) or [""]
    rows = [f"  {line}" for line in lines[:-1]]
    rows.append(f"  {lines[-1]:<{LABEL_WIDTH}}{count:>{COUNT_WIDTH}}")
    return Content.styled("\n".join(rows), style)


def removal_rows(removals: dict[str, int]) -> list[Content]:
    """One red row per rule that removed something, or a row saying nothing was."""
    rows = [count_row(name, -n, "$error") for name, n in removals.items() if n]
    return rows or [count_row("nothing", "")]


def rerank_rows(funnel: Funnel) -> list[Content]:
    """What the re-rank held back from the kept candidates, and how many stayed in the running.

    The re-rank bends its rules when they would leave nothing to show; its counts then
    say what the rules matched, not what was held back, and a note says so.
    """
    rows = [Content("Re-rank held back"), *removal_rows(funnel.diversity_blocked)]
    in_running = funnel.kept - sum(funnel.diversity_blocked.values())
    if in_running <= 0 < funnel.slate:
        rows.append(Content.styled("  (nothing else left: relaxed)", "$text-muted"))
        in_running = max(funnel.kept - funnel.diversity_blocked.get(BACK_TO_BACK, 0), 0)
        in_running = in_running or funnel.kept
    rows.append(count_row("in the running", in_running, "bold"))
    return rows


def shorten(text: str, width: int = ABOUT_WIDTH) -> str:
    """`text` on one line of at most `width` cells, cut with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1].rstrip() + "…"


def finalist_rows(receipt: Receipt, videos: Mapping[int, Video]) -> list[Content]:
    """The top of the slate: rank, score, source and chance, then what each video is (topic,
    creator, the start of its caption), so a presenter can say what the feed nearly showed."""
    rows = []
    for rank, row in enumerate(receipt.slate[:SLATE_ROWS]):
        picked = row["video_id"] == receipt.video_id
        text = f"  #{rank + 1:<3}{row['score']:>6.2f} {row['source']:<9}{row['probability']:>5.0%}"
        rows.append(
            Content.styled(text + (" ◀" if picked else ""), "bold $success" if picked else "")
        )
        video = videos.get(row["video_id"])
        if video is not None:
            about = shorten(f"{video.topic_name} · @{video.creator_handle}")
            rows.append(Content.styled(f"    {about}", "$text-muted"))
            rows.append(Content.styled(f"    {shorten(video.caption)}", "$text-muted italic"))
    return rows


def funnel_content(receipt: Receipt, videos: Mapping[int, Video] | None = None) -> Content:
    """Candidates per source → distinct → each filter's removals → kept → the re-rank's holds
    → in the running → top scored: the pick, then the finalists (with what each is, where
    `videos` describes it); each section adds up to its bold total."""
    f = receipt.funnel
    lines: list[Content] = [Content("Candidates per source")]
    for source, count in sorted(f.proposed.items(), key=lambda kv: -kv[1]):
        if count:
            mark = " ◀" if source in receipt.sources else ""
            lines.append(Content(f"  {source:<{LABEL_WIDTH}}{count:>{COUNT_WIDTH}}{mark}"))
    lines.append(count_row("distinct", f.merged, "bold"))
    lines.append(Content("Filters removed"))
    lines.extend(removal_rows(f.removed))
    lines.append(count_row("kept", f.kept, "bold"))
    lines.extend(rerank_rows(f))
    lines.append(Content(f"Top scored ({f.slate} finalists)"))
    # The pick before the finalists: with what each is, they may run below the panel's end.
    lines.append(
        Content.styled(
            f"Picked #{receipt.rank + 1}: score {receipt.score:.2f}, {receipt.propensity:.1%}",
            "bold $success",
        )
    )
    lines.extend(finalist_rows(receipt, videos or {}))
    return Content("\n").join(lines)


class XRayPanel(VerticalScroll, can_focus=False):
    """Shows the funnel of the pick on screen; set with :meth:`show`."""

    def compose(self) -> ComposeResult:
        yield Label("X-RAY · this pick", classes="panel-title")
        yield Static(id="funnel")

    def show(self, receipt: Receipt | None, videos: Mapping[int, Video] | None = None) -> None:
        """Show the funnel of a pick (None: nothing on screen).

        Args:
            receipt: The pick's receipt.
            videos: The finalists of its slate by id, to say what each is.
        """
        body = funnel_content(receipt, videos) if receipt else Content("no video on screen")
        self.query_one("#funnel", Static).update(body)
