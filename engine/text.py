"""Text from a file, made safe to show on a terminal.

Names, comments, captions, answers and boost reasons come from a SQLite file anyone may have
edited. Written to a terminal as they are, an escape sequence in them would act on the
terminal (`ESC ] 0 ; ... BEL` retitles the window; others move the cursor, rewrite the screen
or, on some terminals, answer back as if typed). Every place the TUI or the command line shows
text from a file passes it through :func:`printable` first, and the engine refuses control
characters where text enters (:func:`check_free_text`).
"""

from __future__ import annotations

import unicodedata

__all__ = ["MAX_FREE_TEXT", "check_free_text", "check_storable", "printable"]

MAX_FREE_TEXT = 2000  # characters of a comment; also the default cap of a free-text answer

# Categories that never print: controls (C0, DEL, C1), line and paragraph separators (a line
# break in disguise) and lone surrogates. Format characters (Cf) mostly must stay (the zero-width
# joiner builds emoji and Indic syllables), except the bidirectional overrides and isolates, which
# can make text read differently from what it is.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})
_BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_C0_PICTURE_BASE = 0x2400  # U+2400..U+241F: "symbol for NULL" .. "symbol for UNIT SEPARATOR"


def _visible(char: str) -> str:
    code = ord(char)
    if code < 0x20:
        return chr(_C0_PICTURE_BASE + code)  # ESC shows as ␛, BEL as ␇
    if code == 0x7F:
        return "\u2421"  # ␡
    if code <= 0xFF:
        return f"\\x{code:02x}"  # C1 controls have no picture of their own
    return f"\\u{code:04x}"


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every character that would act on a terminal replaced by a visible stand-in.

    C0 controls become their Unicode control pictures (ESC → ``␛``, BEL → ``␇``, DEL → ``␡``),
    C1 controls a ``\\x9b``-style escape, line separators and bidirectional overrides a
    ``\\u2028``-style escape. Everything else, emoji and every script included, is unchanged.

    Args:
        text: Text read from a file (a name, caption, comment, answer, reason, ...).
        keep_newlines: Keep ``\\n`` as a line break (multi-line texts such as a study's
            consent); tabs and carriage returns are still shown as pictures.

    Returns:
        Text safe to write to a terminal, as long as `text` when nothing needed replacing.
    """
    if text.isprintable():
        return text  # the common case, checked in C
    return "".join(
        char
        if (keep_newlines and char == "\n")
        or (unicodedata.category(char) not in _HIDDEN_CATEGORIES and char not in _BIDI_CONTROLS)
        else _visible(char)
        for char in text
    )


def check_free_text(
    text: object, field: str, *, max_chars: int = MAX_FREE_TEXT, multiline: bool = True
) -> str:
    """Refuse free text that is not a string, too long, or holds control characters.

    Args:
        text: The value given (a comment, a free-text answer, a viewer's name).
        field: What it is, for the message ("comment", "post: item 'why'").
        max_chars: The most characters accepted.
        multiline: Whether line breaks and tabs are accepted (they are the only controls that
            ever can be).

    Returns:
        `text`, unchanged.

    Raises:
        ValueError: naming `field` and what is wrong with it.
    """
    if not isinstance(text, str):
        raise ValueError(f"{field} needs text, got {type(text).__name__}")
    if len(text) > max_chars:
        raise ValueError(f"{field} has {len(text):,} characters; at most {max_chars:,} are kept")
    if "\x00" in text:
        raise ValueError(f"{field} contains a NUL character (\\x00)")
    check_storable(field, text)
    allowed = "\n\t" if multiline else ""
    bad = next((c for c in text if unicodedata.category(c) == "Cc" and c not in allowed), None)
    if bad is not None:
        raise ValueError(f"{field} contains the control character {_visible(bad)!r}")
    return text


def check_storable(name: str, value: str) -> None:
    """Reject a string SQLite cannot store: one with a lone surrogate (``"\\ud800"``, what a
    broken decode leaves behind) has no UTF-8 form.

    Raises:
        ValueError: naming the argument.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise ValueError(
            f"{name}= is not valid text: character {error.start + 1} is a lone surrogate"
        ) from None
