"""Onboarding a new viewer: interest categories, language and country; all of it may be skipped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Header, Input, Label, Select, SelectionList


@dataclass(frozen=True)
class NewViewer:
    """What the viewer chose; the app creates the viewer through the engine."""

    name: str | None
    interests: tuple[str, ...]
    language: str
    country: str


def topics_by_name(labels: dict[str, str]) -> list[tuple[str, str]]:
    """(slug, display name) pairs in the order every topic list shows them: by name, as a
    viewer looks for one (onboarding's interests, settings' sliders).

    Args:
        labels: Topic slug -> display name.
    """
    return sorted(labels.items(), key=lambda kv: kv[1])


class OnboardingScreen(Screen[NewViewer]):
    """Choose interests, language and country, or skip straight to the feed."""

    CSS_PATH = "onboarding.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "start", "start"),
        Binding("escape", "skip", "skip"),
    ]

    def __init__(
        self,
        labels: dict[str, str],
        languages: list[str],
        countries: list[str],
        *,
        language: str = "en",
        country: str = "US",
        interests: tuple[str, ...] = (),
        ask_name: bool = True,
    ) -> None:
        """Create the screen.

        Args:
            labels: Topic slug -> display name.
            languages: Language codes of the world.
            countries: Country codes of the world.
            language: Preselected language (used when skipping).
            country: Preselected country (used when skipping).
            interests: Preselected topic slugs (e.g. when asked again after a taken name).
            ask_name: Offer the optional name field (a study's participant has a code instead).
        """
        super().__init__()
        self.labels = labels
        self.languages = languages
        self.countries = countries
        self.language = language if language in languages else languages[0]
        self.country = country if country in countries else countries[0]
        self.interests = interests
        self.ask_name = ask_name

    def compose(self) -> ComposeResult:
        yield Header()
        with Vertical(id="onboarding"):
            yield Label("Welcome! What are you into? (space to pick, optional)", classes="title")
            with Horizontal():
                yield SelectionList[str](
                    *(
                        (Content(label), slug, slug in self.interests)  # a name, not markup
                        for slug, label in topics_by_name(self.labels)
                    ),
                    id="interests",
                )
                with Vertical(id="about"):
                    if self.ask_name:
                        yield Label("Name (optional)")
                        yield Input(placeholder="a random one if empty", compact=True, id="name")
                    yield Label("Language")
                    yield Select(
                        [(code, code) for code in self.languages],
                        value=self.language,
                        allow_blank=False,
                        compact=True,
                        id="language",
                    )
                    yield Label("Country")
                    yield Select(
                        [(code, code) for code in self.countries],
                        value=self.country,
                        allow_blank=False,
                        compact=True,
                        id="country",
                    )
                    yield Button("Start watching", variant="primary", compact=True, id="start")
                    yield Button("Skip", compact=True, id="skip")
        yield Footer(compact=True, show_command_palette=False)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "start":
            self.action_start()
        else:
            self.action_skip()

    def _typed_name(self) -> str | None:
        """The name typed, or None (also when the screen does not ask for one)."""
        if not self.ask_name:
            return None
        return self.query_one("#name", Input).value.strip() or None

    def action_start(self) -> None:
        """Create the viewer with what was chosen."""
        self.dismiss(
            NewViewer(
                name=self._typed_name(),
                interests=tuple(self.query_one("#interests", SelectionList).selected),
                language=str(self.query_one("#language", Select).value),
                country=str(self.query_one("#country", Select).value),
            )
        )

    def action_skip(self) -> None:
        """Create the viewer with no interests and the preselected locale."""
        self.dismiss(
            NewViewer(
                name=self._typed_name(), interests=(), language=self.language, country=self.country
            )
        )
