"""foryou's terminal side: the Textual app and the `foryou` command line.

Textual paints at most ``TEXTUAL_FPS`` times a second and, after a change, waits for the next
tick of that clock; at its default of 60 the wait alone can take 17 ms of the feed's 50 ms
keypress-to-paint budget. Textual reads the variable once, when it is first imported, which is
why it is set here, before any module of this package imports it. A value the user set wins.
"""

import os

os.environ.setdefault("TEXTUAL_FPS", "120")
