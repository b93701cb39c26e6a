"""Validation of an imported scan: the mistakes real exports make, each caught with the option that fixes it.

The physical checks are the engine's own (:func:`cargoscan.archive.validity.scan_problems`: one implementation):
they run on the scan *after* the user's options were applied (channel order, air value, encoding, orientation),
so a failure means an option is wrong, and the message names the one to change (:data:`HINTS`). Only two checks
here read what the engine never sees, the raw values before normalisation:

* ``eight_bit``  — the raw data went through 8 bits (max ≤ 255, or every value on the 257-step lattice of an
  8→16-bit rescale, or ≤ 256 distinct levels): the physics is gone, only a re-export helps (the engine's
  ``eight_bit`` also counts the levels of the normalised scan);
* ``air_value``  — raw values well above the stated air value.

``--force NAME`` skips a check deliberately (a raw check, or one of ``validity.CHECKS``); the importer records
it in the sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cargoscan.archive.validity import CHECKS as PHYSICAL_CHECKS
from cargoscan.archive.validity import MAX_VALUE, scan_problems

RAW_CHECKS = ("eight_bit", "air_value")
CHECKS = tuple(dict.fromkeys((*RAW_CHECKS, *PHYSICAL_CHECKS)))

#: What to do when a physical check fails on an imported scan: the option to change.
HINTS = {
    "levels": "check --air-value (the detector's open-beam value) and the export's gain",
    "eight_bit": "re-export the raw 16-bit detector data, without the 8-bit conversion",
    "inverted": "the export holds attenuation (a log image), not transmission; pass --encoding attenuation "
                "--attenuation-scale S (counts per unit of −ln T) or --encoding inverted (value = air − "
                "transmission)",
    "transposed": "rows must run top→rail and columns along the train: pass --transpose",
    "orientation": "the bogies are at the top, so the scan is upside down; pass the other of --rail-at-bottom / "
                   "--rail-at-top",
    "swapped_channels": "the channels are swapped; pass the other --high-channel",
    "noise": "re-export the raw detector data (no denoising, filtering or resampling)",
    "geometry": "check --pitch-row-mm and --pitch-column-mm",
}


@dataclass(frozen=True)
class CheckFailure:
    """One failed check: its name (for ``--force``) and what to do about it."""

    name: str
    message: str

    def __str__(self) -> str:
        return f"[{self.name}] {self.message} (to import anyway: --force {self.name})"


def check_eight_bit(raw: np.ndarray) -> CheckFailure | None:
    """Raw detector values that went through 8 bits: max ≤ 255, the 257-lattice, or ≤ 256 levels."""
    if raw.dtype.kind == "f":
        return None
    vmax = int(raw.max())
    if vmax <= 255:
        return CheckFailure(
            "eight_bit",
            f"the largest value is {vmax}: this is 8-bit data, not raw 16-bit "
            "detector counts; re-export the scan without the 8-bit conversion",
        )
    if np.all(raw % 257 == 0):
        return CheckFailure(
            "eight_bit",
            "every value is a multiple of 257: an 8-bit image was rescaled to 16 bits "
            "(×257); re-export the raw 16-bit detector data",
        )
    levels = np.unique(raw[:, ::4, ::4]).size
    if raw.size >= 4096 * 16 and levels <= 256:
        return CheckFailure(
            "eight_bit",
            f"only {levels} distinct levels in a 16-bit scan: it went through 8 bits; "
            "re-export the raw 16-bit detector data",
        )
    return None


def check_air_value(raw: np.ndarray, air_value: float) -> CheckFailure | None:
    """Values well above the stated air value mean the air value is wrong."""
    p999 = float(np.percentile(raw[0], 99.9))
    if p999 > 1.05 * air_value:
        return CheckFailure(
            "air_value",
            f"0.1 % of the high-energy values exceed {p999:.0f}, above --air-value "
            f"{air_value:g}: pass the detector's open-beam (air) value, e.g. --air-value {p999:.0f}",
        )
    return None


def run_checks(
    raw: np.ndarray, image: np.ndarray, air_value: float, skip: tuple[str, ...] = (),
    pitch_mm: tuple[float, float] | None = None,
) -> list[CheckFailure]:
    """Run every check not in ``skip``: the raw-value checks here, then the engine's physical checks.

    Args:
        raw: (2, H, W) raw values in the user's channel order, before normalisation (integers or floats).
        image: (2, H, W) uint16 archive image made with the user's options.
        air_value: the user's air (open-beam) value of ``raw``.
        skip: names of checks forced off.
        pitch_mm: the (row, column) pitch given; None leaves the geometry unchecked.

    Returns:
        The failures, each with the option that fixes it.
    """
    unknown = set(skip) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check(s) {sorted(unknown)} in --force; known: {list(CHECKS)}")
    failures = [f for name, fn, args in (("eight_bit", check_eight_bit, (raw,)),
                                         ("air_value", check_air_value, (raw, air_value)))
                if name not in skip and (f := fn(*args)) is not None]
    raw_eight_bit = any(f.name == "eight_bit" for f in failures)
    for p in scan_problems(image, pitch_mm, skip=tuple(c for c in skip if c in PHYSICAL_CHECKS)):
        if p.name == "eight_bit" and raw_eight_bit:
            continue                                  # said once, from the raw values
        failures.append(CheckFailure(p.name, f"{p.text}: {HINTS[p.name]}"))
    return failures
