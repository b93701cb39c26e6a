"""ISO 6346 container numbers: owner code (3 letters), category U, serial (6 digits), check digit.

The check digit: letters take the values A=10 … Z=38 skipping multiples of 11 (11, 22, 33), digits their own
value; each of the ten characters is weighted by 2**position; the sum modulo 11, with 10 written as 0.
Example from the standard: CSQU3054383.
"""

from __future__ import annotations

import string

import numpy as np


def _letter_values() -> dict[str, int]:
    values, v = {}, 10
    for letter in string.ascii_uppercase:
        if v % 11 == 0:
            v += 1
        values[letter] = v
        v += 1
    return values


_VALUES = _letter_values()
_VALUES.update({d: int(d) for d in string.digits})

#: Owner codes of lines common on the China–Europe rail corridor (BIC-registered prefixes).
OWNER_CODES = ("CSQ", "TGH", "MSK", "CMA", "OOL", "TRH", "BMO", "KZT", "TCL", "FSC", "CXD", "HLX")


def container_check_digit(first10: str) -> int:
    """Check digit of an ISO 6346 number from its first ten characters.

    Raises:
        ValueError: when the stem is not 3 letters, an equipment category letter (U, J or Z) and 6 digits.
    """
    s = first10.upper()
    if len(s) != 10 or not s[:4].isalpha() or s[3] not in "UJZ" or not s[4:].isdigit():
        raise ValueError(f"an ISO 6346 stem is 3 letters + U/J/Z + 6 digits, got {first10!r}")
    total = sum(_VALUES[ch] * (1 << i) for i, ch in enumerate(s))
    return total % 11 % 10


def is_valid_container(number: str) -> bool:
    """True when ``number`` is a well-formed ISO 6346 number with a correct check digit."""
    s = number.strip().upper().replace(" ", "")
    if len(s) != 11 or not s[10].isdigit():
        return False
    try:
        return container_check_digit(s[:10]) == int(s[10])
    except ValueError:
        return False


def make_container_number(rng: np.random.Generator, owner: str | None = None) -> str:
    """A random valid freight container number (category U)."""
    owner = owner or OWNER_CODES[int(rng.integers(len(OWNER_CODES)))]
    stem = owner + "U" + "".join(str(d) for d in rng.integers(0, 10, size=6))
    return stem + str(container_check_digit(stem))
