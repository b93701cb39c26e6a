"""Validation of an imported scan: the mistakes real exports make, each caught with the option that fixes it.

The checks run on the scan *after* the user's options were applied (channel order, air value, encoding,
orientation), so a failure means an option is wrong, and the message names the one to change:

* ``eight_bit``  — the data went through 8 bits (max ≤ 255, or every value on the 257-step lattice of an
  8→16-bit rescale, or ≤ 256 distinct levels): the physics is gone, only a re-export helps;
* ``inverted``   — air reads dark and the load bright: the export holds attenuation (a log image), not
  transmission;
* ``air_value``  — values well above the stated air value;
* ``swapped_channels`` — over loaded regions the low energy must attenuate *more* than the high one;
* ``orientation`` — bogies and wheels (the densest, starved structures) in the bottom rows, air or the top of
  the load in the top rows;
* ``transposed`` — a wagon is wider than tall; rows along the train mean rows and columns are swapped.

``--force NAME`` skips a check deliberately; the importer records it in the sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_VALUE = 65535
#: Transmission above which a pixel counts as air.
AIR_T = 0.9
#: A_high range of "loaded" pixels: neither air nor starved.
LOADED_A = (0.15, 6.0)
#: A_high above which a pixel counts as starved (a 0 reads 11.8; the last few counts read 9–11).
STARVED_A = 9.0

CHECKS = ("eight_bit", "air_value", "inverted", "transposed", "swapped_channels", "orientation")


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


def check_inverted(t: np.ndarray) -> CheckFailure | None:
    """Air must be bright: the scan's end columns (the gaps between wagons, air above the couplers) and the
    bulk of the image's bright/dark split say whether it holds transmission or attenuation."""
    air = float(np.mean(t[0] > AIR_T))
    dark = float(np.mean(t[0] < 1 - AIR_T))
    ends = float(np.median(np.concatenate([t[0][:, :3], t[0][:, -3:]], axis=1)))
    if (air < 0.02 and dark > 0.2) or (ends < 0.5 and dark > air):
        return CheckFailure(
            "inverted",
            f"the scan's end columns read {ends:.0%} of full transmission and {dark:.0%} "
            f"of pixels are near 0 against {air:.0%} near full: air reads dark, so the export "
            "holds attenuation (an inverted log image), not transmission; pass --encoding "
            "attenuation --attenuation-scale S (counts per unit of −ln T) or --encoding inverted "
            "(value = air − transmission)",
        )
    return None


def check_transposed(t: np.ndarray) -> CheckFailure | None:
    """A wagon is longer than tall: rows far outnumbering columns means the axes are swapped."""
    h, w = t.shape[1:]
    if h > 2 * w:
        return CheckFailure(
            "transposed",
            f"the scan is {h} rows × {w} columns; rows must run top→rail and columns "
            "along the train: pass --transpose",
        )
    return None


def loaded(a_high: np.ndarray) -> np.ndarray:
    """Pixels attenuated but not starved: where the two energies can be compared."""
    return (a_high > LOADED_A[0]) & (a_high < LOADED_A[1])


def check_swapped(a: np.ndarray) -> CheckFailure | None:
    """The low energy attenuates more than the high one over loaded regions (at 4 vs 6 MeV, for every Z)."""
    sel = loaded(a[0]) & loaded(a[1])
    if sel.sum() < 100:
        return None  # an empty scan says nothing about the channel order
    rel = np.median((a[1][sel] - a[0][sel]) / a[0][sel])
    if rel < -0.01:
        return CheckFailure(
            "swapped_channels",
            f"over loaded regions the 'low' energy attenuates {-rel:.1%} LESS "
            "than the 'high' one: the channels are swapped; pass the other --high-channel",
        )
    return None


def check_orientation(t: np.ndarray) -> CheckFailure | None:
    """Bogies at the bottom: the bottom band holds the starved wheels and axles, the top band air or the
    load's
    top (containers may fill the top rows, so "air above" alone cannot decide)."""
    a = -np.log(np.clip(t[0], 0.5 / MAX_VALUE, 1.0))
    h = a.shape[0]
    band = max(1, int(round(0.12 * h)))
    top, bottom = a[:band], a[-band:]
    # Starved share (wheels, axles) and the densest structure (98th percentile) of each band.
    s_top, s_bottom = float(np.mean(top > STARVED_A)), float(np.mean(bottom > STARVED_A))
    q_top, q_bottom = float(np.percentile(top, 98)), float(np.percentile(bottom, 98))
    if s_top > 2 * s_bottom + 0.005:
        why = f"{s_top:.1%} of the top rows are starved (wheels, axles), {s_bottom:.1%} of the bottom rows"
    elif max(s_top, s_bottom) <= 0.005 and q_top > q_bottom + 0.5:
        why = f"the top rows hold the densest structure (A98 {q_top:.1f} vs {q_bottom:.1f} at the bottom)"
    else:
        return None
    return CheckFailure(
        "orientation",
        f"{why}: the bogies are at the top, so the scan is upside down; pass the "
        "other of --rail-at-bottom / --rail-at-top",
    )


def run_checks(
    raw: np.ndarray, image: np.ndarray, air_value: float, skip: tuple[str, ...] = ()
) -> list[CheckFailure]:
    """Run every check not in ``skip``.

    Args:
        raw: (2, H, W) raw values in the user's channel order, before normalisation (integers or floats).
        image: (2, H, W) uint16 archive image made with the user's options.
        air_value: the user's air (open-beam) value of ``raw``.
        skip: names of checks forced off.

    Returns:
        The failures; an inverted scan stops the checks that assume transmission.
    """
    unknown = set(skip) - set(CHECKS)
    if unknown:
        raise ValueError(f"unknown check(s) {sorted(unknown)} in --force; known: {list(CHECKS)}")
    t = image.astype(np.float32) / MAX_VALUE
    a = -np.log(np.clip(t, 0.5 / MAX_VALUE, 1.0))
    failures: list[CheckFailure] = []

    def run(name: str, fn, *args) -> CheckFailure | None:
        if name in skip:
            return None
        f = fn(*args)
        if f is not None:
            failures.append(f)
        return f

    run("eight_bit", check_eight_bit, raw)
    run("air_value", check_air_value, raw, air_value)
    if run("inverted", check_inverted, t) is not None:
        return failures  # the remaining checks read transmission; on a log image they would only confuse
    run("transposed", check_transposed, t)
    run("swapped_channels", check_swapped, a)
    run("orientation", check_orientation, t)
    return failures
