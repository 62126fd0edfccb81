"""Small questions asked over the feed: a one-line comment, or one choice from a short list."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, OptionList
from textual.widgets.option_list import Option

from engine import Video
from engine.text import printable
from engine.vocabulary import NotInterestedScope, ReportReason
from tui.screens.panel import Panel

REPORT_WORDS = {
    ReportReason.SPAM: "Spam or scam",
    ReportReason.MISLEADING: "Misleading",
    ReportReason.HARMFUL: "Dangerous or harmful",
    ReportReason.SENSITIVE: "Sensitive or graphic",
    ReportReason.HATEFUL: "Hateful or harassing",
    ReportReason.OTHER: "Something else",
}
# "Not interested in…" each scope, where no video is at hand to name (the help).
SCOPE_WORDS = {
    NotInterestedScope.VIDEO: "this video",
    NotInterestedScope.CREATOR: "videos by its creator",
    NotInterestedScope.SOUND: "videos with its sound",
    NotInterestedScope.TOPIC: "videos about its topic",
}


class TextPrompt(Panel[str | None]):
    """One line of text; Enter sends it, Escape cancels (returns None)."""

    CSS_PATH = "prompts.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "cancel")]

    def __init__(self, title: str, placeholder: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Label(self.title_text, classes="prompt-title")
            yield Input(placeholder=self.placeholder, max_length=300)
            yield Label("enter: send · escape: cancel", classes="prompt-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoicePrompt(Panel[str | None]):
    """Pick one of a few options (arrows and Enter, a click, or the option's number)."""

    CSS_PATH = "prompts.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "cancel"),
        *(Binding(str(n), f"choose({n - 1})", show=False) for n in range(1, 10)),
    ]

    def __init__(self, title: str, options: list[tuple[str, str]]) -> None:
        """Create the prompt.

        Args:
            title: The question.
            options: (value returned, label shown) pairs.
        """
        super().__init__()
        self.title_text = title
        self.options = options

    def compose(self) -> ComposeResult:
        with Vertical(classes="prompt"):
            yield Label(self.title_text, classes="prompt-title")
            yield OptionList(
                *(
                    Option(Content(f"{n}  {printable(label)}"), id=value)
                    for n, (value, label) in enumerate(self.options, 1)
                )
            )
            yield Label("enter or number: choose · escape: cancel", classes="prompt-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_choose(self, index: int) -> None:
        if 0 <= index < len(self.options):
            self.dismiss(self.options[index][0])

    def action_cancel(self) -> None:
        self.dismiss(None)


def scope_prompt(video: Video) -> ChoicePrompt:
    """ "Not interested in…" this video, its creator, its sound or its topic."""
    labels = {
        NotInterestedScope.VIDEO: "This video",
        NotInterestedScope.CREATOR: f"Videos by @{video.creator_handle}",
        NotInterestedScope.SOUND: f"Videos with ♫ {video.sound_title}",
        NotInterestedScope.TOPIC: f"Videos about {video.topic_name}",
    }
    options = [(str(scope), labels[scope]) for scope in NotInterestedScope]
    return ChoicePrompt("Not interested in…", options)


def report_prompt() -> ChoicePrompt:
    """ "Report: why?" with the engine's report reasons."""
    options = [(str(reason), REPORT_WORDS[reason]) for reason in ReportReason]
    return ChoicePrompt("Report: why?", options)
