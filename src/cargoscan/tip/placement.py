"""Where a threat may be projected into a real scan: inside the load envelope, never in air.

The envelope is read from the image itself: columns whose high-energy attenuation exceeds the container-wall
level over a good part of their height are inside the wagon; its rows run from the roof to the underframe.
The bottom of the envelope holds the bogies, wheels and couplers (dense, often starved), so a band there is
kept free; the band just above it is the floor region, where false floors sit. Sites:

* ``in_cargo``          anywhere in the body, behind the side walls;
* ``false_floor``       in the floor region;
* ``false_front_wall``  against either end of the body (behind the front walls and the doors);
* ``false_roof``        in the band under the roof line;
* ``underframe``        below the floor: the deck, the sills and the bogies (the band kept free for every other
  site), on attenuating pixels that are not starved — from the deck line (the densest row of that band) down;
* ``hollowed_goods``    inside dense cargo: pixels whose (smoothed) A_high is in the body's upper quantile and well
  above the wall level (at least :data:`DENSE_WALL_FACTOR` × the wall level). Voids (missing cargo) go there too.

Everything is read from the image alone, so the sites work unchanged on real scans of any wagon type.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy import ndimage, signal

from cargoscan.tip.config import PlacementParams

MAX_VALUE = 65535.0
SITES = ("in_cargo", "false_floor", "false_front_wall", "false_roof", "underframe", "hollowed_goods")
#: Dense cargo (``hollowed_goods``): smoothed A_high at least DENSE_SHARE × this quantile of the body's pixels ...
DENSE_QUANTILE = 0.75
DENSE_SHARE = 0.7
#: ... and at least this many times the wall level.
DENSE_WALL_FACTOR = 10.0
#: Body columns that must attenuate in a row for it to count as part of the underframe (bogies, sills).
UNDERFRAME_COLUMNS = 0.1
#: Height of the roof band (``false_roof``) as a fraction of the body above the floor region.
ROOF_BAND = 0.2


class PlacementError(RuntimeError):
    """No plausible site for a threat in this scan (an empty flat wagon, a tiny crop, a too-big threat)."""


@dataclass(frozen=True)
class Envelope:
    """The load envelope of a scan, in pixels (exclusive ends)."""

    top: int
    bottom: int  #: first row of the bogie band (threats stay above it)
    left: int
    right: int
    floor: int  #: first row of the floor region
    inside: np.ndarray  #: (H, W) bool: pixels inside the wagon body (walls seen through), bogie band excluded
    starved: np.ndarray  #: (H, W) bool: background too dense to show a threat (A_high ≥ max_background_a)
    deck: int = -1  #: first row of the underframe site (the deck line); -1: no underframe found
    under: np.ndarray | None = None  #: (H, W) bool: attenuating underframe pixels (deck, sills, bogies)
    dense: np.ndarray | None = None  #: (H, W) bool: inside pixels over dense cargo (``hollowed_goods``)

    @property
    def height(self) -> int:
        return self.bottom - self.top


def attenuation_high(image: np.ndarray) -> np.ndarray:
    """A_high = −ln T_high of a (2, H, W) uint16 scan, starved pixels at ln(131070)."""
    return -np.log(np.clip(image[0].astype(np.float32) / MAX_VALUE, 0.5 / MAX_VALUE, 1.0))


def find_envelope(image: np.ndarray, params: PlacementParams = PlacementParams()) -> Envelope:
    """Find the wagon's load envelope from the image.

    Raises:
        PlacementError: when no column run looks like a wagon body.
    """
    a_raw = attenuation_high(image)
    a = ndimage.uniform_filter(a_raw, size=3)
    solid = a > params.wall_level
    h, w = solid.shape
    # Columns inside a wagon are attenuating over a good part of the height; the longest run of them is the
    # body.
    cols = solid.mean(axis=0) > 0.25
    runs, n = ndimage.label(cols)
    if n == 0:
        raise PlacementError("no wagon body: no column attenuates above the wall level")
    sizes = ndimage.sum(cols, runs, index=np.arange(1, n + 1))
    run = int(np.argmax(sizes)) + 1
    xs = np.flatnonzero(runs == run)
    left, right = int(xs[0]), int(xs[-1]) + 1
    # Rows: attenuating across most of the body's columns (the roof line down to the underframe).
    rows = solid[:, left:right].mean(axis=1) > 0.5
    ys = np.flatnonzero(rows)
    if ys.size == 0:
        raise PlacementError("no wagon body: no row attenuates across the body's columns")
    top, last = int(ys[0]), int(ys[-1]) + 1
    bottom = last - int(round(params.bogie_band * (last - top)))
    floor = bottom - int(round(params.floor_band * (bottom - top)))
    # Inside = attenuating pixels within those bounds. Holes (no wall in the beam: the air between two
    # containers,
    # above a tank) stay out: a threat there would float in air. The raw A must agree with the smoothed one.
    inside = np.zeros_like(solid)
    inside[top:bottom, left:right] = solid[top:bottom, left:right] & (
        a_raw[top:bottom, left:right] > params.wall_level
    )
    if bottom - top < 4 or right - left < 4:
        raise PlacementError(f"the wagon body is too small ({bottom - top}×{right - left} px)")
    deck, under = _underframe(a, a_raw, solid, bottom, last, left, right, params)
    dense = _dense(a_raw, inside, params)
    return Envelope(
        top, bottom, left, right, floor, inside, a_raw >= params.max_background_a, deck, under, dense
    )


def _underframe(
    a: np.ndarray,
    a_raw: np.ndarray,
    solid: np.ndarray,
    bottom: int,
    last: int,
    left: int,
    right: int,
    params: PlacementParams,
) -> tuple[int, np.ndarray]:
    """The deck line (the densest row of the bogie band, which starts at ``bottom``: median A over the body's
    columns) and the attenuating pixels from it down to the last row where the underframe (bogies, sills) still
    covers a tenth of the body's columns."""
    h = a.shape[0]
    under = np.zeros_like(solid)
    med = np.median(a[bottom:last, left:right], axis=1) if last > bottom else np.zeros(0)
    deck = bottom + int(np.argmax(med)) if med.size else bottom
    cover = solid[:, left:right].mean(axis=1) > UNDERFRAME_COLUMNS
    end = deck
    while end < h and cover[end]:
        end += 1
    if end - deck < 2:
        return -1, under
    under[deck:end, left:right] = solid[deck:end, left:right] & (a_raw[deck:end, left:right] > params.wall_level)
    return deck, under


def _dense(a_raw: np.ndarray, inside: np.ndarray, params: PlacementParams) -> np.ndarray:
    """Inside pixels over dense cargo: smoothed A_high in the body's upper part and well above the wall level."""
    if not inside.any():
        return np.zeros_like(inside)
    smooth = ndimage.uniform_filter(a_raw, size=7)
    level = max(DENSE_SHARE * float(np.quantile(smooth[inside], DENSE_QUANTILE)), DENSE_WALL_FACTOR * params.wall_level)
    return inside & (smooth >= level) & (smooth < params.max_background_a)


def allowed_region(env: Envelope, site: str, margin: int) -> np.ndarray:
    """(H, W) bool: where a threat's pixels may lie for ``site``."""
    if site not in SITES:
        raise ValueError(f"unknown site {site!r}; known: {SITES}")
    if site == "underframe":
        # The underframe is not inside the body: its own attenuating pixels, from the deck line down. No erosion:
        # a box welded under the floor hangs from the deck and against the sills.
        if env.under is None:
            return np.zeros_like(env.inside)
        return env.under.copy()
    region = env.inside.copy()
    if site == "hollowed_goods" and env.dense is not None:
        region &= env.dense
    if margin > 0:  # keep off the envelope's edge (cv2: ~50× faster than ndimage on a full scan)
        kernel = np.ones((2 * margin + 1, 2 * margin + 1), np.uint8)
        region = cv2.erode(region.astype(np.uint8), kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0) > 0
    rows = np.arange(region.shape[0])[:, None]
    cols = np.arange(region.shape[1])[None, :]
    if site == "false_floor":
        region &= rows >= env.floor
    elif site == "false_front_wall":
        depth = max(margin + 2, (env.right - env.left) // 10)
        region &= (cols < env.left + margin + depth) | (cols >= env.right - margin - depth)
    elif site == "false_roof":
        band = max(margin + 2, int(round((env.floor - env.top) * ROOF_BAND)))
        region &= rows < env.top + margin + band
    return region


def place(
    image: np.ndarray,
    footprint: np.ndarray,
    site: str,
    rng: np.random.Generator,
    params: PlacementParams = PlacementParams(),
    envelope: Envelope | None = None,
    occupied: np.ndarray | None = None,
) -> tuple[int, int]:
    """Choose the top-left corner (row, column) of ``footprint`` in ``image`` for ``site``.

    Every footprint pixel must lie in the allowed region, off pixels already ``occupied`` by earlier
    insertions,
    and over a background that is not starved (A_high below ``params.max_background_a``).

    Raises:
        PlacementError: when no position fits within ``params.attempts`` draws.
    """
    env = envelope or find_envelope(image, params)
    region = allowed_region(env, site, params.margin_px) & ~env.starved
    if occupied is not None:
        region &= ~occupied
    fh, fw = footprint.shape
    h, w = region.shape
    if fh > h or fw > w:
        raise PlacementError(f"a {fh}×{fw} px threat does not fit a {h}×{w} px scan")
    # Rejection sampling first: centre the footprint on a random allowed pixel and check it (cheap per try)
    # ...
    cand_y, cand_x = np.nonzero(region)
    if cand_y.size == 0:
        raise PlacementError(f"no {site} site: the load envelope has no free pixel for it")
    for _ in range(params.attempts):
        i = int(rng.integers(cand_y.size))
        y, x = int(cand_y[i]) - fh // 2, int(cand_x[i]) - fw // 2
        if 0 <= y <= h - fh and 0 <= x <= w - fw and region[y : y + fh, x : x + fw][footprint].all():
            return y, x
    # ... then the exhaustive search, for tight sites: positions with no forbidden pixel under the footprint
    # (a 'valid' correlation by FFT).
    # Only the bounding box of the allowed pixels can hold the footprint: search there (a window of a long scan
    # is ~30× smaller than the scan).
    ry0, ry1 = int(cand_y.min()), int(cand_y.max()) + 1
    rx0, rx1 = int(cand_x.min()), int(cand_x.max()) + 1
    if ry1 - ry0 < fh or rx1 - rx0 < fw:
        raise PlacementError(f"no {site} site fits a {fh}×{fw} px threat inside the load envelope")
    hits = signal.fftconvolve(
        (~region[ry0:ry1, rx0:rx1]).astype(np.float32), footprint[::-1, ::-1].astype(np.float32), mode="valid"
    )
    ys, xs = np.nonzero(hits < 0.5)
    if ys.size == 0:
        raise PlacementError(f"no {site} site fits a {fh}×{fw} px threat inside the load envelope")
    i = int(rng.integers(ys.size))
    return int(ys[i]) + ry0, int(xs[i]) + rx0
