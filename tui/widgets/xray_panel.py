"""The x-ray side panel: how this pick was made, from candidates per source down to one video."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Label, Static

from engine import Receipt

SLATE_ROWS = 6


def funnel_content(receipt: Receipt) -> Content:
    """Candidates per source → merged → each filter's removals → kept → slate → picked."""
    f = receipt.funnel
    lines: list[Content | str] = ["Candidates per source"]
    for source, count in sorted(f.proposed.items(), key=lambda kv: -kv[1]):
        if count:
            mark = " ◀" if source in receipt.sources else ""
            lines.append(f"  {source:<18}{count:>6}{mark}")
    lines.append(Content.styled(f"  {'distinct':<18}{f.merged:>6}", "bold"))
    lines.append("Filters removed")
    removed = [(name, n) for name, n in f.removed.items() if n]
    removed += [(name, n) for name, n in f.diversity_blocked.items() if n]
    for name, count in removed or [("nothing", 0)]:
        lines.append(Content.styled(f"  {name[:18]:<18}{-count:>6}", "$error" if count else ""))
    lines.append(Content.styled(f"  {'kept':<18}{f.kept:>6}", "bold"))
    lines.append(f"Top scored ({f.slate} finalists)")
    for rank, row in enumerate(receipt.slate[:SLATE_ROWS]):
        picked = row["video_id"] == receipt.video_id
        text = f"  #{rank + 1:<3}{row['score']:>6.2f} {row['source']:<9}{row['probability']:>5.0%}"
        style = "bold $success" if picked else ""
        lines.append(Content.styled(text + (" ◀" if picked else ""), style))
    lines.append(
        Content.styled(
            f"Picked #{receipt.rank + 1}: score {receipt.score:.2f}, "
            f"chance {receipt.propensity:.1%}",
            "bold $success",
        )
    )
    return Content("\n").join(Content(line) if isinstance(line, str) else line for line in lines)


class XRayPanel(VerticalScroll, can_focus=False):
    """Shows the funnel of the pick on screen; set with :meth:`show`."""

    def compose(self) -> ComposeResult:
        yield Label("X-RAY · this pick", classes="panel-title")
        yield Static(id="funnel")

    def show(self, receipt: Receipt | None) -> None:
        """Show the funnel of a pick (None: nothing on screen).

        Args:
            receipt: The pick's receipt.
        """
        body = funnel_content(receipt) if receipt else Content("no video on screen")
        self.query_one("#funnel", Static).update(body)
