"""Imports sqlite-utils without pandas, which it would otherwise import if installed.

sqlite-utils imports pandas (and with it pyarrow) at import time, only to map ``pd.Timestamp``
to a column type; foryou never stores pandas values, and that import costs ~0.4 s of every
start of the feed. While sqlite-utils loads, ``pandas`` is marked as not importable; it is
importable again right after (``Comparison.to_pandas()`` still works). When pandas is already
loaded (a notebook), sqlite-utils gets it as usual.
"""

from __future__ import annotations

import sys


def _import_without_pandas() -> None:
    if "sqlite_utils" in sys.modules or "pandas" in sys.modules:
        return
    sys.modules["pandas"] = None  # type: ignore[assignment]  # makes `import pandas` fail
    try:
        import sqlite_utils.db  # noqa: F401
    finally:
        del sys.modules["pandas"]


_import_without_pandas()
