"""MovieLens (``ml-latest-small`` and its siblings): movies.csv, tags.csv and ratings.csv.

``movies.csv`` genres become topics (``(no genres listed)`` counts as none), ``tags.csv`` free
tags become hashtags, ``ratings.csv`` is the log (each rating a viewing; the reactions a rating
becomes are in :mod:`seed.importers.history`). A movie becomes a short clip: its duration is
drawn from the synthetic clip distribution. Ratings and tags of unknown movies are refused.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seed.importers.source import Catalogue, Log
from seed.importers.table import ImportFileError, Table, read_table

NO_GENRES = "(no genres listed)"
GENRE_MOTIFS = {
    "Action": "zigzag", "Adventure": "waves", "Animation": "bubbles", "Children": "bubbles",
    "Comedy": "fire", "Crime": "grid", "Documentary": "orbit", "Drama": "leaves",
    "Fantasy": "spiral", "Film-Noir": "checker", "Horror": "rain", "IMAX": "pulse",
    "Musical": "bars", "Mystery": "rain", "Romance": "plasma", "Sci-Fi": "stars",
    "Thriller": "spiral", "War": "fire", "Western": "stripes",
}  # fmt: skip


def read_movielens(folder: Path) -> tuple[Catalogue, Log]:
    """Read a MovieLens folder.

    Raises:
        ImportFileError: a file is missing or bad (naming the file and line).
    """
    if not folder.is_dir():
        raise ImportFileError(f"{folder}: not a folder (expected movies.csv and ratings.csv)")
    movies = read_table(folder / "movies.csv", ("movieId", "title", "genres"))
    keys = movies.unique_ids("movieId")
    index = {key: i for i, key in enumerate(keys.tolist())}
    genres = [
        [g for g in text.split("|") if g and g != NO_GENRES] for text in movies.text("genres")
    ]
    tags: list[list[str]] = [[] for _ in keys]
    tag_file = folder / "tags.csv"
    if tag_file.exists():
        table = read_table(tag_file, ("userId", "movieId", "tag"), allow_empty=True)
        for row, movie in enumerate(_items(table, index).tolist()):
            tags[movie].append(table.rows[row][table.header.index("tag")])
    catalogue = Catalogue(
        name="movielens",
        key=keys,
        topics=genres,
        tags=tags,
        title=movies.text("title"),
        language="en",
        country="US",
        topic_motifs=GENRE_MOTIFS,
        creators_by_decade=True,
    )
    ratings = read_table(folder / "ratings.csv", ("userId", "movieId", "rating", "timestamp"))
    users = ratings.integers("userId")
    user_keys, user_index = np.unique(users, return_inverse=True)
    rating = ratings.numbers("rating", within=(0.0, 5.0))
    log = Log(
        user_key=[str(k) for k in user_keys.tolist()],
        user=user_index.astype(np.int64),
        item=_items(ratings, index),
        unix=ratings.numbers("timestamp"),
        rating=rating,
    )
    return catalogue, log


def _items(table: Table, index: dict[int, int]) -> np.ndarray:
    movies = table.integers("movieId")
    items = np.empty(movies.size, dtype=np.int64)
    for row, movie in enumerate(movies.tolist()):
        found = index.get(movie)
        if found is None:
            raise table.fail(row, f"movieId {movie} is not in movies.csv")
        items[row] = found
    return items
