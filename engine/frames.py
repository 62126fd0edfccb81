"""Results as tables for a notebook: plain columns to a pandas DataFrame or a Parquet file.

Comparisons, sweeps and off-policy evaluations keep their results as plain columns (a dict of
equal-length lists or arrays); this is the one place that turns such columns into a
DataFrame or a Parquet file. pandas and pyarrow are optional extras, imported only here and
only when asked, so the engine itself never needs them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

Columns = Mapping[str, Sequence[Any] | Any]  # column name -> list or numpy array


def to_pandas(columns: Columns) -> Any:
    """The columns as a pandas DataFrame.

    Raises:
        ImportError: pandas is not installed (``pip install 'foryou[pandas]'``).
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("to_pandas needs pandas: pip install 'foryou[pandas]'") from None
    return pd.DataFrame(dict(columns))


def to_parquet(columns: Columns, path: str | Path) -> None:
    """Write the columns to a Parquet file at ``path``.

    Raises:
        ImportError: pyarrow is not installed (``pip install 'foryou[parquet]'``).
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("to_parquet needs pyarrow: pip install 'foryou[parquet]'") from None
    pq.write_table(pa.table(dict(columns)), str(path))
