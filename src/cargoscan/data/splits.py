"""Split scans by train number, so that no train has wagons in two splits.

Wagons of one train share the day, the scanner state and often the consignor: splitting wagons instead of
trains would leak all of that into the test score.
"""

from __future__ import annotations

import hashlib

SPLITS = ("train", "val", "test")


def _key(train_number: str, seed: int) -> str:
    # A hash rather than a shuffled list: a train keeps its split when other trains are added or removed.
    return hashlib.sha256(f"{seed}:{train_number}".encode()).hexdigest()


def split_trains(train_numbers: list[str], fractions: tuple[float, float, float], seed: int = 0
                 ) -> dict[str, str]:
    """Assign each distinct train number to ``train``, ``val`` or ``test``.

    Trains are ordered by a seeded hash and cut by the fractions; with at least three trains and non-zero
    fractions every split gets at least one train.

    Args:
        train_numbers: train numbers (repeats allowed: one per wagon).
        fractions: train / val / test fractions of trains.
        seed: changes the assignment.

    Returns:
        train number -> split name.
    """
    trains = sorted(set(train_numbers), key=lambda t: _key(t, seed))
    n = len(trains)
    counts = [int(round(f * n)) for f in fractions]
    if n >= 3:
        for i, f in enumerate(fractions):
            if f > 0 and counts[i] == 0:
                counts[i] = 1
    # Give or take from the train split so that the counts add up.
    counts[0] = max(0, n - counts[1] - counts[2])
    out: dict[str, str] = {}
    pos = 0
    for name, count in zip(SPLITS, counts):
        for t in trains[pos:pos + count]:
            out[t] = name
        pos += count
    return out
