"""Eight-digit freight wagon numbers of the 1520 mm gauge.

The first digit is the wagon family (2 covered, 4 flat, 6 gondola, 7 tank, ...). The eighth digit is a check
digit over the first seven with the weights 2,1,2,1,2,1,2 and modulus 10.

Sources disagree on one point: whether a two-digit product (e.g. 2×8 = 16) enters the sum as 16 or as its
digit sum 1+6 = 7. We take the digit-sum reading. It is the one written in the OSJD numbering handbook
«Восьмизначная система нумерации грузовых вагонов колеи 1520 мм» (2005), which speaks of the «подразрядная
сумма» (the sum of the digits of the products), and it is the same Luhn rule that UIC leaflet 920-1 uses for
the 12-digit European wagon number; our tests check it on UIC's worked examples (21 80 524 6 003-5 and
50 51 26-18 001-5), which only come out right with digit-summing.
"""

from __future__ import annotations

import numpy as np

#: The first digit of the number: the wagon family.
WAGON_TYPES: dict[str, int] = {"covered": 2, "flat": 4, "gondola": 6, "tank": 7}


def luhn_check_digit(digits: str) -> int:
    """Check digit of a digit string, weights 2,1,2,1,... from the left, products digit-summed, modulus 10."""
    if not digits.isdigit():
        raise ValueError(f"not a digit string: {digits!r}")
    total = 0
    for i, ch in enumerate(digits):
        p = int(ch) * (2 if i % 2 == 0 else 1)
        total += p // 10 + p % 10
    return (10 - total % 10) % 10


def wagon_check_digit(first7: str) -> int:
    """Check digit of a wagon number from its first seven digits.

    Args:
        first7: the seven leading digits.

    Raises:
        ValueError: when the input is not seven digits.
    """
    if len(first7) != 7 or not first7.isdigit():
        raise ValueError(f"a wagon number's stem is 7 digits, got {first7!r}")
    return luhn_check_digit(first7)


def is_valid_wagon(number: str) -> bool:
    """True when ``number`` is 8 digits whose last digit is the check digit of the first seven."""
    return len(number) == 8 and number.isdigit() and int(number[7]) == wagon_check_digit(number[:7])


def wagon_type(number: str) -> str:
    """The wagon family named by the first digit ("covered", "flat", "gondola", "tank" or "other")."""
    lead = int(number[0])
    for name, digit in WAGON_TYPES.items():
        if digit == lead:
            return name
    return "other"


def make_wagon_number(kind: str, rng: np.random.Generator) -> str:
    """A random valid wagon number of the given family.

    Args:
        kind: one of :data:`WAGON_TYPES`.
        rng: the random generator.
    """
    if kind not in WAGON_TYPES:
        raise ValueError(f"unknown wagon type {kind!r}; known: {sorted(WAGON_TYPES)}")
    stem = str(WAGON_TYPES[kind]) + "".join(str(d) for d in rng.integers(0, 10, size=6))
    return stem + str(wagon_check_digit(stem))
