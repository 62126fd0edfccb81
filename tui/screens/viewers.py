"""Who is watching: pick a viewer of this world, or create a new one."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Label, OptionList
from textual.widgets.option_list import Option

from engine.text import printable

NEW = "new"


class ViewerScreen(Screen[int | None]):
    """Returns the chosen viewer's id, or None to create a new viewer."""

    CSS_PATH = "viewers.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("n", "new", "new viewer")]

    def __init__(self, viewers: list[dict[str, Any]], world: str) -> None:
        """Create the picker.

        Args:
            viewers: Rows of ``Engine.users()`` (simulated viewers are left out).
            world: The world file's name, for the heading.
        """
        super().__init__()
        self.viewers = [v for v in viewers if not v.get("simulated")]
        self.world = world

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="viewers"):
            yield Label(Content(f"Who is watching {printable(self.world)}?"), classes="title")
            options = [Option("＋ New viewer (onboarding)", id=NEW)]
            for viewer in self.viewers:
                text = (
                    f"{printable(viewer['name'])}  ·  {viewer['language']}-{viewer['country']}  ·  "
                    f"{viewer.get('watched', 0)} watched"
                )
                options.append(Option(Content(text), id=str(viewer["id"])))
            yield OptionList(*options)
            yield Label("↑/↓ and enter to choose, n for a new viewer", classes="hint")
        yield Footer(compact=True, show_command_palette=False)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id
        self.dismiss(None if chosen in (None, NEW) else int(chosen))

    def action_new(self) -> None:
        self.dismiss(None)
