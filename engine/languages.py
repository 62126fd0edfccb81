"""Which languages a viewer follows: the account's own for certain, English perhaps, any other
hardly, and every closed viewing of a video in another language moves that belief.

A video in a language the viewer cannot follow is watched far less: simulated personas spent
20.0 s on such an impression against 31.8 s in their own language, and under the account's
language alone ("same language", a yes or no) 41% of the engine's picks were in a language
the persona follows, no more than among the candidates (``benchmarks/diagnose_ranking.py``,
engine/sim/README.md). English is the language many follow beside their own, and which
viewers do is not in the account: the viewer's own viewings tell, as interactions should
weigh more than a setting. Each one is evidence for or against the language: a viewing that
held (engine.uncertainty.held) is likelier from a viewer who follows it (:data:`HELD_IF_FOLLOWED`)
than from one who does not (:data:`HELD_IF_NOT`), and the log-odds add up (Bayes, one
viewing at a time, the topic of the video left to the other inputs: every language spans
every topic). The learned P(action) reads the chance as its "language" input.

The two rates are what simulated personas did under the default engine (100 personas x 30
picks on the 20k world: 53.6% of viewings held in their own language, 51.0% in English they
follow, 38.1% in a language they do not), rounded; a real audience's would be measured the
same way on the viewings in viewers' own languages.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

PRIOR_ENGLISH = 0.5  # chance a viewer whose account is in another language follows English
PRIOR_OTHER = 0.1  # ... any other language but its own
HELD_IF_FOLLOWED = 0.53
HELD_IF_NOT = 0.38
OWN_LOG_ODDS = 30.0  # the account's language: followed, whatever the viewings say
_HELD_STEP = math.log(HELD_IF_FOLLOWED / HELD_IF_NOT)
_MISSED_STEP = math.log((1.0 - HELD_IF_FOLLOWED) / (1.0 - HELD_IF_NOT))


def fresh_belief(n_languages: int, own: int, english: int) -> F32:
    """Log-odds that a new viewer follows each language (``own``, ``english``: indexes, or
    negative when unknown)."""
    chance = np.full(n_languages, PRIOR_OTHER)
    if 0 <= english < n_languages:
        chance[english] = PRIOR_ENGLISH
    belief = np.log(chance / (1.0 - chance)).astype(np.float32)
    if 0 <= own < n_languages:
        belief[own] = OWN_LOG_ODDS
    return belief


def note_viewing(belief: F32, language: int, own: int, *, held: bool) -> None:
    """One closed viewing of a video in ``language``: its evidence, unless it is the own."""
    if language == own or not 0 <= language < len(belief):
        return
    belief[language] += _HELD_STEP if held else _MISSED_STEP


def followed(belief: F32) -> F32:
    """The chance the viewer follows each language.

    The log-odds are read within ±:data:`OWN_LOG_ODDS`: a language swiped thousands of times
    keeps a tiny positive chance, so its log (what the sources weigh) stays finite.
    """
    # np.clip's steps (max, then min) without its Python wrappers: a pick reads this twice.
    odds = np.minimum(np.maximum(belief.astype(np.float64), -OWN_LOG_ODDS), OWN_LOG_ODDS)
    chance: F32 = (1.0 / (1.0 + np.exp(-odds))).astype(np.float32)
    return chance
