"""What a caller may ask of the generator: world size and seed, checked before any work starts.

The spec is the whole input of ``generate_world`` apart from the epoch, so two equal specs give
two identical worlds. Validation lives here so the CLI can report a bad flag in one line before
it spends seconds building vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_VIDEOS = 50  # tiny worlds keep tests fast; the rates still hold roughly
MAX_VIDEOS = 2_000_000  # the engine keeps every column in memory
MIN_CREATORS = 5


def default_creators(videos: int) -> int:
    """Return the default creator count: about 20 videos per creator, at least 20 creators."""
    return max(20, videos // 20)


@dataclass(frozen=True)
class WorldSpec:
    """Size and seed of a synthetic world.

    Attributes:
        videos: number of videos, 50..2,000,000.
        creators: number of creators, 5..videos; ``None`` means ``default_creators(videos)``.
        seed: root of every random draw, >= 0.
    """

    videos: int = 20_000
    creators: int | None = None
    seed: int = 42

    def __post_init__(self) -> None:
        self.validate()

    @property
    def creator_count(self) -> int:
        """The creator count with the default applied."""
        return default_creators(self.videos) if self.creators is None else self.creators

    def validate(self) -> None:
        """Check the spec.

        Raises:
            ValueError: with a one-line message naming the offending field.
        """
        _require_int("videos", self.videos)
        _require_int("seed", self.seed)
        if self.creators is not None:
            _require_int("creators", self.creators)
        if not MIN_VIDEOS <= self.videos <= MAX_VIDEOS:
            raise ValueError(
                f"videos must be between {MIN_VIDEOS:,} and {MAX_VIDEOS:,}, got {self.videos:,}"
            )
        creators = self.creator_count
        if creators < MIN_CREATORS:
            raise ValueError(f"creators must be at least {MIN_CREATORS}, got {creators:,}")
        if creators > self.videos:
            raise ValueError(f"creators ({creators:,}) cannot exceed videos ({self.videos:,})")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0, got {self.seed}")


def _require_int(name: str, value: object) -> None:
    # bool is an int subclass; `videos=True` is a typo, not a one-video world.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name} must be an integer, got {value!r}")
