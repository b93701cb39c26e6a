"""A scan's scene: per-material path-length maps along the beam, the semantic mask and the instances.

The beam crosses the train horizontally, so every pixel integrates the path (cm) through each material from one
side of the wagon to the other (contract A of the physics). Geometry is given in metres: ``x`` along the train
from the start of the image, ``z`` height above the rail head. Rows run from the top of the image to the bottom
(the rail), columns along the train.

Drawing is vectorised: a box is an outer product of per-row and per-column *coverage* weights (fractional at its
edges, so a 2 mm sheet still attenuates in the pixel it crosses) added into a slice of the path map; round things
(wheels, coils, drums, tyres) use cached templates. That keeps a full-resolution wagon at ~0.1 s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from cargoscan.archive.classes import class_id, paint
from cargoscan.archive.io import encode_rle
from cargoscan.physics.materials import get_material


def _density(material: str) -> float:
    """Density (g/cm³) of a material of the physics' one table (``physics.materials``), to turn paths into kg."""
    return float(get_material(material).density_g_cm3)


def coverage(lo: float, hi: float, pitch: float, n: int) -> tuple[int, np.ndarray]:
    """Pixels ``[start, start + len(w))`` covered by the interval ``[lo, hi)`` (metres) and their coverage in [0, 1].

    Returns an empty weight vector when the interval misses the ``n`` pixels.
    """
    a, b = lo / pitch, hi / pitch
    a, b = max(a, 0.0), min(b, float(n))
    if b <= a:
        return 0, np.zeros(0, np.float32)
    i0, i1 = int(np.floor(a)), int(np.ceil(b))
    edges = np.arange(i0, i1 + 1, dtype=np.float64)
    w = np.clip(np.minimum(edges[1:], b) - np.maximum(edges[:-1], a), 0.0, 1.0)
    return i0, w.astype(np.float32)


@lru_cache(maxsize=256)
def ellipse_template(ry: float, rx: float, profile: str = "solid") -> np.ndarray:
    """A (2⌈ry⌉+1, 2⌈rx⌉+1) float32 template of a disc of radii (ry, rx) pixels, anti-aliased.

    ``profile``: ``solid`` (1 inside), ``sphere`` (chord-length profile √(1-r²), a cylinder seen side-on along
    its axis is solid, a ball or a drum seen end-on is this).
    """
    hy, hx = int(np.ceil(ry)), int(np.ceil(rx))
    y = (np.arange(-hy, hy + 1, dtype=np.float32) / max(ry, 1e-3))[:, None]
    x = (np.arange(-hx, hx + 1, dtype=np.float32) / max(rx, 1e-3))[None, :]
    r = np.sqrt(x * x + y * y)
    edge = np.clip((1.0 - r) * min(ry, rx) + 0.5, 0.0, 1.0)   # ~1 px soft edge
    if profile == "sphere":
        return (edge * np.sqrt(np.clip(1.0 - r * r, 0.0, 1.0))).astype(np.float32)
    return edge.astype(np.float32)


@lru_cache(maxsize=256)
def ring_template(ry: float, rx: float, inner: float) -> np.ndarray:
    """An annulus (outer radii ry, rx; inner radius as a fraction of the outer): tyres, coils, reels end-on."""
    outer = ellipse_template(ry, rx)
    hole = ellipse_template(ry * inner, rx * inner)
    out = outer.copy()
    py, px = (outer.shape[0] - hole.shape[0]) // 2, (outer.shape[1] - hole.shape[1]) // 2
    out[py:py + hole.shape[0], px:px + hole.shape[1]] -= hole
    return np.clip(out, 0.0, 1.0)


def heterogeneity(rng: np.random.Generator, shape: tuple[int, int], row_pitch_m: float, col_pitch_m: float,
                  amp: float, length_m: float) -> np.ndarray:
    """Multiplicative path field of heterogeneous goods: mean 1, relative σ ``amp``, correlation ``length_m``.

    A ray through a carton of shoes or a crate of parts crosses a random number of soles, castings and air gaps;
    its neighbour one pixel over crosses others. That is why real scans' σ(A) grows faster than photon noise
    with A: adjacent-column differences see the goods' texture. We model the path along the beam as a
    log-normal field from Gaussian-filtered white noise at two octaves (the items' parts at ``length_m``, i.e.
    about a pixel, and the items at 6 × ``length_m`` with 0.6 of the amplitude); the mean path, so the mass, is
    unchanged on average. The system PSF later smooths the finest octave, as it does on a real scanner.
    """
    h, w = shape
    if amp <= 0 or h == 0 or w == 0:
        return np.ones(shape, np.float32)
    # fine octave at full resolution
    sr, sc = max(length_m / row_pitch_m, 0.5), max(length_m / col_pitch_m, 0.5)
    field = rng.standard_normal(shape, dtype=np.float32)
    field = cv2.GaussianBlur(field, (0, 0), sigmaX=sc, sigmaY=sr, borderType=cv2.BORDER_REFLECT)
    # unit variance: white noise blurred by a 2-D Gaussian keeps 1 / (4π σr σc) of its variance
    field *= np.float32(np.sqrt(4 * np.pi * sr * sc))
    # coarse octave (6×, weight 0.6), drawn on a 4× coarser grid and interpolated up: same field, 16× cheaper
    ch, cw = h // 4 + 2, w // 4 + 2
    coarse = rng.standard_normal((ch, cw), dtype=np.float32)
    csr, csc = max(1.5 * sr, 0.5), max(1.5 * sc, 0.5)
    coarse = cv2.GaussianBlur(coarse, (0, 0), sigmaX=csc, sigmaY=csr, borderType=cv2.BORDER_REFLECT)
    coarse *= np.float32(0.6 * np.sqrt(4 * np.pi * csr * csc))
    field += cv2.resize(coarse, (cw * 4, ch * 4), interpolation=cv2.INTER_LINEAR)[2:h + 2, 2:w + 2]
    sigma = np.float32(amp / np.sqrt(1.36))
    field *= sigma
    field -= np.float32(amp * amp / 2)              # log-normal with mean 1 (the field's variance is amp²)
    return np.exp(field)


@dataclass
class Instance:
    """A labelled object: its full-extent mask, class, material, mass and where it is hidden."""

    cls: str
    mask: np.ndarray          # bool (H, W)
    material: str
    mass_kg: float
    site: str
    unit: str | None = None


@dataclass
class Scene:
    """Path maps (cm) per material over an (H, W) image, with the semantic mask and instances.

    Args:
        rows, cols: image size.
        row_pitch_m, col_pitch_m: pixel pitch at the object plane.
        z_bottom_m: height of the lowest row's bottom edge above the rail.
    """

    rows: int
    cols: int
    row_pitch_m: float
    col_pitch_m: float
    z_bottom_m: float
    x_offset_m: float = 0.0   # x of column 0's left edge (cargo layers are cropped to their unit)
    paths: dict[str, np.ndarray] = field(default_factory=dict)
    mask: np.ndarray = None  # type: ignore[assignment]
    instances: list[Instance] = field(default_factory=list)
    units: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mask is None:
            self.mask = np.zeros((self.rows, self.cols), np.uint8)

    # --- coordinates ---------------------------------------------------------------------------------------
    @property
    def z_top_m(self) -> float:
        return self.z_bottom_m + self.rows * self.row_pitch_m

    def row_of(self, z: float) -> float:
        """Fractional row of height ``z`` (row 0 at the top)."""
        return (self.z_top_m - z) / self.row_pitch_m

    def col_of(self, x: float) -> float:
        return (x - self.x_offset_m) / self.col_pitch_m

    def rows_cov(self, z0: float, z1: float) -> tuple[int, np.ndarray]:
        """Rows covered by heights [z0, z1)."""
        return coverage(self.z_top_m - max(z0, z1), self.z_top_m - min(z0, z1), self.row_pitch_m, self.rows)

    def cols_cov(self, x0: float, x1: float) -> tuple[int, np.ndarray]:
        return coverage(min(x0, x1) - self.x_offset_m, max(x0, x1) - self.x_offset_m, self.col_pitch_m, self.cols)

    def path(self, material: str) -> np.ndarray:
        """The (H, W) path map of a material, created on first use."""
        if material not in self.paths:
            self.paths[material] = np.zeros((self.rows, self.cols), np.float32)
        return self.paths[material]

    # --- drawing -------------------------------------------------------------------------------------------
    def box(self, material: str, x0: float, x1: float, z0: float, z1: float, path_cm: float | np.ndarray,
            label: str | None = None, hard: bool = False) -> tuple[slice, slice]:
        """Add ``path_cm`` of ``material`` over the box [x0, x1) × [z0, z1) (metres), with edge coverage.

        ``path_cm`` may be a scalar or an array broadcastable to the box's (rows, cols). ``label`` paints the
        semantic class where the box covers at least half a pixel. Returns the box's slices.
        """
        r0, wr = self.rows_cov(z0, z1)
        c0, wc = self.cols_cov(x0, x1)
        rs, cs = slice(r0, r0 + len(wr)), slice(c0, c0 + len(wc))
        if len(wr) == 0 or len(wc) == 0:
            return rs, cs
        weight = wr[:, None] * wc[None, :]
        p = self.path(material)
        p[rs, cs] += weight * np.asarray(path_cm, np.float32)
        if label is not None:
            self.label(label, (rs, cs), weight >= 0.5)
        return rs, cs

    def template(self, material: str, tmpl: np.ndarray, x: float, z: float, path_cm: float,
                 label: str | None = None) -> tuple[slice, slice]:
        """Add ``tmpl × path_cm`` centred at (x, z) metres; clipped at the image border."""
        cy, cx = int(round(self.row_of(z))), int(round(self.col_of(x)))
        h, w = tmpl.shape
        y0, x0 = cy - h // 2, cx - w // 2
        ya, xa = max(y0, 0), max(x0, 0)
        yb, xb = min(y0 + h, self.rows), min(x0 + w, self.cols)
        rs, cs = slice(ya, max(ya, yb)), slice(xa, max(xa, xb))
        if yb <= ya or xb <= xa:
            return rs, cs
        t = tmpl[ya - y0:yb - y0, xa - x0:xb - x0]
        self.path(material)[rs, cs] += t * np.float32(path_cm)
        if label is not None:
            self.label(label, (rs, cs), t >= 0.5)
        return rs, cs

    def label(self, cls: str, where: tuple[slice, slice], sub: np.ndarray) -> None:
        """Paint ``cls`` into the semantic mask over a slice, keeping higher-priority classes."""
        region = self.mask[where]
        paint(region, class_id(cls), np.asarray(sub, bool))

    def remove(self, materials: list[str], where: tuple[slice, slice], fraction: np.ndarray | float) -> float:
        """Remove ``fraction`` of the path of ``materials`` inside a slice (a cavity); returns the mass removed (kg)."""
        removed = 0.0
        area_cm2 = self.row_pitch_m * self.col_pitch_m * 1e4
        for m in materials:
            if m in self.paths:
                sub = self.paths[m][where]
                cut = sub * np.asarray(fraction, np.float32)
                removed += float(cut.sum()) * area_cm2 * _density(m) / 1000.0
                sub -= cut
        return removed

    def add_instance(self, cls: str, mask: np.ndarray, material: str, mass_kg: float, site: str,
                     unit: str | None) -> None:
        """Record an instance (full extent) and paint it into the semantic mask."""
        if not mask.any():
            return
        self.instances.append(Instance(cls, mask, material, float(mass_kg), site, unit))
        paint(self.mask, class_id(cls), mask)

    def full_mask(self, where: tuple[slice, slice], sub: np.ndarray | None = None) -> np.ndarray:
        """A full-size boolean mask that is ``sub`` (or True) inside a slice."""
        m = np.zeros((self.rows, self.cols), bool)
        m[where] = True if sub is None else np.asarray(sub, bool)
        return m

    def mass_kg(self, material: str, where: tuple[slice, slice] | np.ndarray | None = None) -> float:
        """Mass of a material in the scene (or inside a region), from its path map."""
        if material not in self.paths:
            return 0.0
        p = self.paths[material]
        total = float(p.sum() if where is None else p[where].sum())
        return total * self.row_pitch_m * self.col_pitch_m * 1e4 * _density(material) / 1000.0

    # --- output --------------------------------------------------------------------------------------------
    def label_doc(self, scan_id: str, wagon_type: str, category: str | None) -> dict[str, Any]:
        """The instance JSON of ``cargoscan.archive`` (labels schema)."""
        instances = []
        for i, inst in enumerate(self.instances, start=1):
            bbox, rle = encode_rle(inst.mask)
            instances.append({"id": i, "class": inst.cls, "bbox": bbox, "mask": {"rle": rle},
                              "material": inst.material, "mass_kg": round(inst.mass_kg, 3), "site": inst.site,
                              "unit": inst.unit})
        return {"schema_version": "1.0", "scan_id": scan_id, "shape": [self.rows, self.cols],
                "wagon_type": wagon_type, "cargo_category": category, "units": self.units,
                "instances": instances}
