"""Threat patches and the canvas they are drawn on: the assembly shared by every threat of the library.

A :class:`ThreatPatch` is what the physics needs and what the labels say: per-material path maps (cm along the
beam, over a small H×W window at the scan's pitch), optionally a map of the background's cargo that is
*removed* (voids, hollowed goods), and the labelled instances inside the window. A :class:`Canvas` draws boxes of
path at a pitch; :func:`finish` turns a square-pixel canvas of an object that may lie at any angle into exact
maps at the scan's pitch. What is drawn (materials, shapes, masses) is the threat catalogue's,
:mod:`cargoscan.synth.threats`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from cargoscan.physics.materials import get_material

@dataclass
class PatchInstance:
    """One labelled object in a patch: class, window-sized mask, main material and mass."""

    cls: str
    mask: np.ndarray
    material: str
    mass_kg: float


@dataclass
class ThreatPatch:
    """Material paths (cm) over a window, the site it belongs to and its labelled instances."""

    name: str
    site: str
    paths: dict[str, np.ndarray]
    instances: list[PatchInstance] = field(default_factory=list)
    #: (h, w) float32 in [0, 1] or None: the fraction of the background's path *above the wall level* that is
    #: absent over each pixel (missing cargo: voids, hollowed goods). ``Projector`` removes it before adding
    #: ``paths``; the wagon's own walls are never removed.
    removal: np.ndarray | None = None

    @property
    def shape(self) -> tuple[int, int]:
        if self.paths:
            return next(iter(self.paths.values())).shape
        if self.removal is None:
            raise ValueError(f"threat patch {self.name!r} has neither paths nor a removal map")
        return self.removal.shape

    @property
    def footprint(self) -> np.ndarray:
        """Pixels the patch changes at all: it attenuates them or removes background from them."""
        out = np.zeros(self.shape, bool)
        for p in self.paths.values():
            out |= p > 0
        if self.removal is not None:
            out |= self.removal > 0
        return out


class Canvas:
    """A window at a pitch, with paths drawn in centimetres."""

    def __init__(self, height_cm: float, width_cm: float, pitch_mm: tuple[float, float]):
        self.pitch_cm = (pitch_mm[0] / 10.0, pitch_mm[1] / 10.0)
        self.h = max(1, int(round(height_cm / self.pitch_cm[0])))
        self.w = max(1, int(round(width_cm / self.pitch_cm[1])))
        self.paths: dict[str, np.ndarray] = {}

    def px(self, y_cm: float, x_cm: float) -> tuple[int, int]:
        return int(round(y_cm / self.pitch_cm[0])), int(round(x_cm / self.pitch_cm[1]))

    def box(
        self, material: str, y_cm: float, x_cm: float, h_cm: float, w_cm: float, path_cm: float
    ) -> np.ndarray:
        """Add ``path_cm`` of ``material`` over a box (at least one pixel); returns the box's mask."""
        y0, x0 = self.px(y_cm, x_cm)
        y1, x1 = self.px(y_cm + h_cm, x_cm + w_cm)
        y1, x1 = max(y1, y0 + 1), max(x1, x0 + 1)
        mask = np.zeros((self.h, self.w), bool)
        mask[max(y0, 0) : min(y1, self.h), max(x0, 0) : min(x1, self.w)] = True
        p = self.paths.setdefault(material, np.zeros((self.h, self.w), np.float32))
        p[mask] += np.float32(path_cm)
        return mask

    def mass_kg(self, material: str, mask: np.ndarray | None = None) -> float:
        """Mass from the path map: Σ path × pixel area × density."""
        p = self.paths.get(material)
        if p is None:
            return 0.0
        total = float(p.sum() if mask is None else p[mask].sum())
        return total * self.pitch_cm[0] * self.pitch_cm[1] * get_material(material).density_g_cm3 / 1000.0


#: Relative path below which a rotated, resampled map is cleaned to zero (sub-pixel slivers of the edges).
SLIVER = 0.05


def iso_pitch(pitch_mm: tuple[float, float]) -> tuple[float, float]:
    """A square-pixel pitch (the finer of the scan's two) to draw objects that will be rotated."""
    p = min(pitch_mm)
    return (p, p)


def finish(
    c: Canvas, pitch_mm: tuple[float, float], angle_deg: float = 0.0
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Rotate a square-pixel canvas by ``angle_deg``, resample it to the scan's pitch and clean it.

    Each material's map is rotated (bilinear) on a canvas large enough to hold it, resampled to ``pitch_mm``
    (area averaging), cropped to the object, cleaned where the total path is under :data:`SLIVER` of its
    maximum and each map scaled back to its drawn total (so the mass is exact). Returns the path maps and the
    exact mask ``path > 0``.
    """
    iso = c.pitch_cm[0]
    diag = int(np.ceil(np.hypot(c.h, c.w))) + 2
    out: dict[str, np.ndarray] = {}
    totals = {}
    for name, p in c.paths.items():
        big = np.zeros((diag, diag), np.float32)
        y0, x0 = (diag - c.h) // 2, (diag - c.w) // 2
        big[y0 : y0 + c.h, x0 : x0 + c.w] = p
        if angle_deg:
            m = cv2.getRotationMatrix2D(((diag - 1) / 2.0, (diag - 1) / 2.0), float(angle_deg), 1.0)
            big = cv2.warpAffine(big, m, (diag, diag), flags=cv2.INTER_LINEAR)
        fy, fx = iso / (pitch_mm[0] / 10.0), iso / (pitch_mm[1] / 10.0)
        if fy != 1.0 or fx != 1.0:
            size = (max(1, int(round(diag * fx))), max(1, int(round(diag * fy))))
            big = cv2.resize(big, size, interpolation=cv2.INTER_AREA)
        out[name] = big
        totals[name] = float(p.sum()) * iso * iso
    area = pitch_mm[0] * pitch_mm[1] / 100.0
    both = np.sum(list(out.values()), axis=0)
    thin = both < SLIVER * both.max()
    for name, p in out.items():
        p[thin] = 0.0
        if p.max() > 0:
            p *= np.float32(totals[name] / (float(p.sum()) * area))
    mask = np.any([p > 0 for p in out.values()], axis=0)
    ys, xs = np.nonzero(mask)
    crop = (slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1))
    return {k: np.ascontiguousarray(v[crop]) for k, v in out.items()}, mask[crop]


def paths_mass_kg(paths: dict[str, np.ndarray], pitch_mm: tuple[float, float], *materials: str) -> float:
    """Mass (kg) of ``materials`` in path maps at a pitch: what a patch's instance weighs as drawn."""
    area = pitch_mm[0] * pitch_mm[1] / 100.0
    return sum(
        float(paths[m].sum()) * area * get_material(m).density_g_cm3 / 1000.0 for m in materials if m in paths
    )


#: Inner width of a loaded body across the beam (a covered wagon 2.76 m, a container 2.35 m). Contraband in the
#: cargo takes the place of goods: over its face it displaces (its depth along the beam) / this of the load.
LOAD_DEPTH_CM = 240.0


def displaced(mask: np.ndarray, depth_cm: float) -> np.ndarray:
    """The ``removal`` map of an object ``depth_cm`` deep along the beam set into the goods: the share of the
    load's path it displaces over its own mask (the synthesiser cuts the goods the same way,
    ``synth.concealment``)."""
    return np.where(mask, np.float32(min(1.0, depth_cm / LOAD_DEPTH_CM)), np.float32(0.0)).astype(np.float32)


def sheet_path(depth_cm: float, thick_cm: float, pitch_cm: float) -> float:
    """Path of a plate seen edge-on (``depth_cm`` along the beam, ``thick_cm`` thick) over one pixel."""
    return depth_cm * min(1.0, thick_cm / pitch_cm)


def box_mask(c: Canvas, y: float, x: float, h: float, w: float) -> np.ndarray:
    """A box of the canvas (cm), at least one pixel: a compartment's extent, whatever it holds."""
    y0, x0 = c.px(y, x)
    y1, x1 = c.px(y + h, x + w)
    mask = np.zeros((c.h, c.w), bool)
    mask[max(y0, 0) : max(min(y1, c.h), y0 + 1), max(x0, 0) : max(min(x1, c.w), x0 + 1)] = True
    return mask


def cavity_mask(c: Canvas, width_cm: float) -> np.ndarray:
    """The first ``width_cm`` of the canvas, full height: the cavity behind a false end wall."""
    mask = np.zeros((c.h, c.w), bool)
    mask[:, : max(1, c.px(0, width_cm)[1])] = True
    return mask

