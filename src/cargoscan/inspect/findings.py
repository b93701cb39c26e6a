"""Risk areas from the class map, and which container each one lies in.

A risk area is a connected component (8-connectivity) of one threat class in the class map at the model pitch.
Its score is the mean probability of that class over the component; its box is mapped back to scan pixels and
to metres; its unit is the container (or, without containers, the wagon) whose column span holds most of it.

Unit spans, the method: the load's column extent is where the upper part of the image (above the floor, rows
in the top ``LOAD_ROWS`` fraction) attenuates more than air. With one container or none, the whole extent is
the unit. With n containers in the sidecar, the extent is split at the n−1 *gaps* between them — the column of
lowest mean attenuation within ±15 % of a unit length around each equal-split point — when that column is
clearly lighter than the load (below half the extent's median attenuation); where no such gap is visible, the
equal split is used. The method actually used is reported (``gaps``, ``equal`` or ``mixed``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from cargoscan.inspect.result import RiskArea

LOAD_ROWS = 0.7       # fraction of rows (from the top) that holds the load, above floor and bogies
AIR_A = 0.05          # attenuation below this is air
GAP_SEARCH = 0.15     # search window for a gap, fraction of a unit length
GAP_DEPTH = 0.5       # a gap attenuates less than this fraction of the load's median


@dataclass(frozen=True)
class UnitSpans:
    """Column spans (model pixels) of the units of a wagon, in order along the wagon."""

    names: tuple[str | None, ...]
    spans: tuple[tuple[int, int], ...]
    method: str


def unit_spans(a_high: np.ndarray, containers: list[str], wagon: str | None) -> UnitSpans:
    """Infer each container's column span from the image, or split the load length equally.

    Args:
        a_high: (H, W) high-energy attenuation at the model pitch.
        containers: container numbers from the sidecar, in order along the train.
        wagon: the wagon number, the unit when there are no containers.
    """
    h, w = a_high.shape
    profile = a_high[: max(1, int(h * LOAD_ROWS))].astype(np.float32).mean(0)
    loaded = np.flatnonzero(profile > AIR_A)
    x0, x1 = (int(loaded[0]), int(loaded[-1]) + 1) if len(loaded) else (0, w)
    n = len(containers)
    if n <= 1:
        return UnitSpans((containers[0] if n else wagon,), ((x0, x1),), "extent")
    length = (x1 - x0) / n
    median = float(np.median(profile[x0:x1]))
    cuts, methods = [x0], set()
    for i in range(1, n):
        guess = x0 + i * length
        lo, hi = int(max(x0 + 1, guess - GAP_SEARCH * length)), int(min(x1 - 1, guess + GAP_SEARCH * length))
        if hi > lo:
            j = lo + int(np.argmin(profile[lo:hi]))
            if profile[j] < GAP_DEPTH * median:
                cuts.append(j)
                methods.add("gaps")
                continue
        cuts.append(int(round(guess)))
        methods.add("equal")
    cuts.append(x1)
    method = methods.pop() if len(methods) == 1 else "mixed"
    return UnitSpans(tuple(containers), tuple((cuts[i], cuts[i + 1]) for i in range(n)), method)


def unit_of(c0: int, c1: int, units: UnitSpans) -> str | None:
    """The unit whose span overlaps the columns [c0, c1) most."""
    best, name = 0, None
    for u, (s0, s1) in zip(units.names, units.spans):
        ov = min(c1, s1) - max(c0, s0)
        if ov > best:
            best, name = ov, u
    if name is None and units.names:   # outside every span: the nearest
        mid = (c0 + c1) / 2
        name = min(zip(units.names, units.spans), key=lambda t: abs((t[1][0] + t[1][1]) / 2 - mid))[0]
    return name


def risk_areas(labels: np.ndarray, score: np.ndarray, classes: tuple[str, ...], threat: np.ndarray,
               scan_shape: tuple[int, int], scan_pitch_mm: tuple[float, float], model_pitch_mm: tuple[float, float],
               units: UnitSpans, min_area_px: int = 16, min_area_m2: float = 0.0,
               classes_ru: dict[str, str] | None = None, bottom_m: float = 0.0) -> tuple[list[RiskArea], np.ndarray]:
    """Connected components of the threat classes as risk areas, highest score first.

    Heights are above the rail: ``bottom_m`` is the height of the image's bottom row (rows run top → rail).

    Returns:
        The areas (ids from 1) and a (H', W') int32 map of area ids (0 = none) at the model pitch.
    """
    h, w = labels.shape
    sy, sx = scan_shape[0] / h, scan_shape[1] / w
    px_m2 = model_pitch_mm[0] * model_pitch_mm[1] * 1e-6
    found = []
    for c in np.flatnonzero(threat):
        comp, n = ndimage.label(labels == c, structure=np.ones((3, 3), bool))
        if n == 0:
            continue
        idx = np.arange(1, n + 1)
        sizes = ndimage.sum_labels(np.ones_like(comp), comp, idx)
        means = ndimage.mean(score.astype(np.float32), comp, idx)
        for i, sl in enumerate(ndimage.find_objects(comp)):
            if sizes[i] < min_area_px or sizes[i] * px_m2 < min_area_m2:
                continue
            found.append((float(means[i]), int(c), sl, comp[sl] == i + 1, float(sizes[i])))
    found.sort(key=lambda t: -t[0])
    id_map = np.zeros((h, w), np.int32)
    areas = []
    for k, (sc, c, sl, m, size) in enumerate(found, start=1):
        r0, r1, c0, c1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        id_map[sl][m] = k
        bx0, by0 = int(np.floor(c0 * sx)), int(np.floor(r0 * sy))
        bx1, by1 = min(scan_shape[1], int(np.ceil(c1 * sx))), min(scan_shape[0], int(np.ceil(r1 * sy)))
        pr, pc = scan_pitch_mm[0] / 1000, scan_pitch_mm[1] / 1000
        bbox_m = [round(bx0 * pc, 3), round(bottom_m + (scan_shape[0] - by1) * pr, 3), round(bx1 * pc, 3),
                  round(bottom_m + (scan_shape[0] - by0) * pr, 3)]
        name = classes[c]
        areas.append(RiskArea(id=k, cls=name, score=round(sc, 4), bbox_px=[bx0, by0, bx1, by1], bbox_m=bbox_m,
                              area_m2=round(size * px_m2, 4), unit=unit_of(c0, c1, units),
                              class_ru=(classes_ru or {}).get(name, name)))
    return areas, id_map


def calibrate_areas(areas: list[RiskArea], id_map: np.ndarray, score: np.ndarray, k: int, calibrator) -> None:
    """Give each area a calibrated probability: the wagon score restricted to the area (the top-k mean of its
    class probability, :func:`cargoscan.scoring.wagon.wagon_score`) through the wagon's calibrator."""
    from cargoscan.scoring.wagon import wagon_score

    slices = ndimage.find_objects(id_map)
    for a in areas:
        sl = slices[a.id - 1] if a.id - 1 < len(slices) else None
        raw = wagon_score(score[sl][id_map[sl] == a.id], k) if sl is not None else a.score
        a.probability = round(float(calibrator(raw) if calibrator is not None else raw), 4)
