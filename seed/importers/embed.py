"""Embeddings for real items: item metadata plus who watched what together.

An item's 32-dimensional unit vector is two halves joined, each a unit vector scaled by √½:

* **metadata** (16 dims): the item's topics and tags as TF-IDF-weighted one-hots (the 2,000
  most frequent features at most), reduced to their 16 leading directions (a truncated SVD);
* **co-occurrence** (16 dims): the history part of the log as a user × item matrix (1 per
  viewing, 1.5 for a like or a rating of 4 or more, 0.25 for a "not interested" or a rating of
  1.5 or less; each user's row divided by √(their count) so heavy users do not dominate),
  reduced to the items' 16 leading singular directions.

The cosine of two items is then half their metadata cosine plus half their co-occurrence
cosine. An item missing one half (no metadata, never watched in the history) takes the other
half alone; one missing both gets a random direction (marked synthetic). A dataset with no
metadata at all (the KuaiRand like/hate log) gives all 32 dimensions to co-occurrence. Only the
history part of the log is used, so held-out viewings leave no trace in the world.
"""

from __future__ import annotations

import numpy as np

from engine.world import EMBED_DIM, F32, F64, I64

MAX_FEATURES = 2_000
SKETCH_SEED = 20_240_917  # fixed: the sketch is part of the method, not of the world's seed
MAX_MATRIX_CELLS = 60_000_000  # a dense user × item matrix this large is ~240 MB of float32


def feature_matrix(labels: list[list[str]]) -> F32:
    """TF-IDF weighted one-hots of each item's labels ([N, F], F ≤ ``MAX_FEATURES``)."""
    counts: dict[str, int] = {}
    for row in labels:
        for label in set(row):
            counts[label] = counts.get(label, 0) + 1
    kept = sorted(counts, key=lambda label: (-counts[label], label))[:MAX_FEATURES]
    column = {label: j for j, label in enumerate(kept)}
    matrix = np.zeros((len(labels), len(kept)), dtype=np.float32)
    for i, row in enumerate(labels):
        for label in row:
            if label in column:
                matrix[i, column[label]] = 1.0
    idf = np.log((1 + len(labels)) / (1 + np.array([counts[k] for k in kept], dtype=np.float64)))
    return (matrix * (idf + 1.0).astype(np.float32)) if kept else matrix


def leading_directions(matrix: F32, dims: int) -> F32:
    """The rows of ``matrix`` projected on its ``dims`` leading right singular vectors.

    A randomized truncated SVD (Halko, Martinsson and Tropp 2011: a Gaussian sketch with 10
    extra columns and 4 power iterations) from a fixed seed: a few products with the matrix
    instead of a full eigendecomposition (1.6 s → 0.05 s on MovieLens' tag matrix), and the
    same input always gives the same directions.
    """
    rows, cols = matrix.shape
    out = np.zeros((rows, dims), dtype=np.float32)
    if rows == 0 or cols == 0:
        return out
    m = matrix.astype(np.float64)
    sketch = np.random.default_rng(SKETCH_SEED).standard_normal((cols, min(dims + 10, cols)))
    basis, _ = np.linalg.qr(m @ sketch)
    for _ in range(4):
        basis, _ = np.linalg.qr(m.T @ basis)
        basis, _ = np.linalg.qr(m @ basis)
    _, _, right = np.linalg.svd(basis.T @ m, full_matrices=False)
    projected = m @ right[:dims].T
    out[:, : projected.shape[1]] = projected
    return _fix_signs(out)


def _fix_signs(vectors: F32) -> F32:
    # An eigenvector's sign is arbitrary (it may differ across LAPACK builds); pin it so the
    # same input gives the same world everywhere.
    flip = np.sign(vectors.sum(axis=0))
    flip[flip == 0] = 1
    flipped: F32 = (vectors * flip).astype(np.float32)
    return flipped


def interaction_matrix(user: I64, item: I64, weight: F64, n_users: int, n_items: int) -> F32:
    """The history as a dense user × item matrix, each user's row scaled by 1/√(their count).

    When users × items would exceed ``MAX_MATRIX_CELLS`` the most active users are kept.
    """
    counts = np.bincount(user, minlength=n_users).astype(np.float64)
    keep_users = np.arange(n_users)
    if n_users * max(n_items, 1) > MAX_MATRIX_CELLS:
        cap = max(1, MAX_MATRIX_CELLS // max(n_items, 1))
        keep_users = np.sort(np.argsort(-counts, kind="stable")[:cap])
    row_of = np.full(n_users, -1, dtype=np.int64)
    row_of[keep_users] = np.arange(keep_users.size)
    inside = row_of[user] >= 0
    matrix = np.zeros((keep_users.size, n_items), dtype=np.float32)
    scale = 1.0 / np.sqrt(np.maximum(counts[user[inside]], 1.0))
    np.add.at(matrix, (row_of[user[inside]], item[inside]), (weight[inside] * scale))
    return matrix


def _unit(vectors: F32) -> tuple[F32, np.ndarray]:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    present = norms[:, 0] > 1e-9
    safe = np.where(norms > 1e-9, norms, 1.0)
    return (vectors / safe).astype(np.float32), present


def item_embeddings(
    labels: list[list[str]],
    interactions: F32 | None,
    rng: np.random.Generator,
) -> tuple[F32, int]:
    """Combine the metadata and co-occurrence halves (see the module docstring).

    Args:
        labels: [N] each item's topics and tags (all empty when the dataset has none).
        interactions: [U, N] from :func:`interaction_matrix`; None without a log.
        rng: draws the random directions of items with neither half.

    Returns:
        ([N, EMBED_DIM] unit vectors, how many items got a random direction).
    """
    # The item count comes from the labels, which every catalogue has: a catalogue of ids and
    # titles alone (no labels, no log) once counted 0 items and crashed in the clustering.
    n = len(labels)
    has_meta = any(labels)
    has_log = interactions is not None and interactions.size > 0 and bool(interactions.any())
    meta_dims = EMBED_DIM // 2 if has_meta and has_log else (EMBED_DIM if has_meta else 0)
    parts = []
    present = []
    if has_meta:
        vectors, ok = _unit(leading_directions(feature_matrix(labels), meta_dims))
        parts.append(vectors)
        present.append(ok)
    if has_log:
        assert interactions is not None
        vectors, ok = _unit(leading_directions(interactions.T.copy(), EMBED_DIM - meta_dims))
        parts.append(vectors)
        present.append(ok)
    joined = np.zeros((n, EMBED_DIM), dtype=np.float32)
    start = 0
    for vectors in parts:
        joined[:, start : start + vectors.shape[1]] = vectors
        start += vectors.shape[1]
    unit, ok = _unit(joined)
    missing = np.flatnonzero(~ok)
    if missing.size:
        random = rng.standard_normal((missing.size, EMBED_DIM)).astype(np.float32)
        unit[missing] = random / np.linalg.norm(random, axis=1, keepdims=True)
    return unit.astype(np.float32), int(missing.size)


def kmeans(vectors: F32, k: int, rng: np.random.Generator, rounds: int = 25) -> I64:
    """Cluster unit vectors by cosine (spherical k-means); returns each row's cluster in [0, k).

    Used for a log without metadata: its items' topics are their co-occurrence clusters.
    """
    k = max(1, min(k, vectors.shape[0]))
    centres = vectors[rng.choice(vectors.shape[0], size=k, replace=False)].copy()
    assigned = np.zeros(vectors.shape[0], dtype=np.int64)
    for _ in range(rounds):
        assigned = np.argmax(vectors @ centres.T, axis=1).astype(np.int64)
        for c in range(k):
            members = vectors[assigned == c]
            if len(members):
                mean = members.sum(axis=0)
                centres[c] = mean / max(float(np.linalg.norm(mean)), 1e-9)
    # Number clusters by size (largest first) so "cluster 1" is the biggest taste.
    sizes = np.bincount(assigned, minlength=k)
    order = np.argsort(-sizes, kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[assigned]
