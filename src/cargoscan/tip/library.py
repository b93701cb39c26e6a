"""Threats and concealments to project: material path-length patches built from the synthesiser's materials.

A :class:`ThreatPatch` is what the physics needs and what the labels say: per-material path maps (cm along the
beam, over a small H×W window at the scan's pitch), optionally a map of the background's cargo that is
*removed* (voids, hollowed goods), and the labelled instances inside the window. Objects are drawn from the
same materials (``cargoscan.physics.materials``) and at the same sizes and masses as the synthesiser's threats
(``cargoscan.synth.concealment``), following concealment practice:

===================== ================ ===================================================================
threat                site             what
===================== ================ ===================================================================
drugs_bricks          in_cargo         1–500 kg of cocaine/heroin bricks (log-uniform, as the synthesiser)
cigarettes_cases      in_cargo         a pallet-sized block of master cases
rifle, pistol         in_cargo         a firearm or a consignment (≤ 12 rifles, ≤ 24 pistols; stacks of ≤ 4 along
                                       the beam, side by side), at any angle
ammunition            in_cargo         a steel box of cartridges (brass), lying near flat
grenade               in_cargo         a hand grenade: steel body, ammonium-nitrate-like filling
false_front_wall      false_front_wall a steel sheet across the body near an end, contraband behind it
false_floor           false_floor      a sheet edge-on (a dense row), flat packages beneath
false_roof            false_roof       a sheet edge-on under the roof, flat packages above it
underframe_box        underframe       a welded steel box under the floor with contraband
structure_compartment underframe       two or three plates edge-on (and a cross-member) in the sills, goods
                                       between them (the synthesiser's sill compartment)
hollowed_goods        hollowed_goods   part of a dense good cut out (removal) and drugs packed in its place
bulk_void             hollowed_goods   missing cargo: part of the background's cargo absent (removal),
                                       sometimes with contraband in the cavity
===================== ================ ===================================================================

Objects that may lie at any angle (firearms, bricks, ammunition) are drawn on a square-pixel canvas, rotated
(bilinear), resampled to the scan's pitch (area averaging), cleaned of sub-5 % slivers and renormalised to
their drawn mass: their masks are exactly ``path > 0``. Contraband set into the cargo (bricks, cases, firearms)
**displaces** the goods it stands in for (``removal`` over its mask: its depth along the beam over
:data:`LOAD_DEPTH_CM`), as the synthesiser cuts them: added on top, cigarettes among garments would be far
more visible than real ones, and a model would learn "extra mass" instead of what cigarettes look like. Hidden compartments follow the wagon's structure and
are not rotated; their mask is the compartment's full extent (sheet and cavity), as the synthesiser labels it.

``list_threats()`` / ``create_threat(name, rng, pitch_mm)`` in the timm manner.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np


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


class _Canvas:
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
        from cargoscan.physics.materials import get_material

        p = self.paths.get(material)
        if p is None:
            return 0.0
        total = float(p.sum() if mask is None else p[mask].sum())
        return total * self.pitch_cm[0] * self.pitch_cm[1] * get_material(material).density_g_cm3 / 1000.0


def _bricks(
    c: _Canvas, material: str, rng: np.random.Generator, depth_cm: float, fill: float = 0.85
) -> np.ndarray:
    """A stack of 1 kg bricks (≈ 30×20 cm faces) over the whole window, each at its own depth."""
    mask = np.zeros((c.h, c.w), bool)
    rows, cols = max(1, round(c.h * c.pitch_cm[0] / 10)), max(1, round(c.w * c.pitch_cm[1] / 30))
    bh, bw = c.h * c.pitch_cm[0] / rows, c.w * c.pitch_cm[1] / cols
    for i in range(rows):
        for j in range(cols):
            d = depth_cm * fill * rng.uniform(0.85, 1.0)
            mask |= c.box(material, i * bh, j * bw, bh, bw, d)
    return mask


DRUG_MASS_KG = (1.0, 500.0)  #: log-uniform, as ``synth.threats.drug_mass_kg``
#: Relative path below which a rotated, resampled map is cleaned to zero (sub-pixel slivers of the edges).
SLIVER = 0.05


def _iso(pitch_mm: tuple[float, float]) -> tuple[float, float]:
    """A square-pixel pitch (the finer of the scan's two) to draw objects that will be rotated."""
    p = min(pitch_mm)
    return (p, p)


def _finish(
    c: _Canvas, pitch_mm: tuple[float, float], angle_deg: float = 0.0
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


def _mass(paths: dict[str, np.ndarray], pitch_mm: tuple[float, float], *materials: str) -> float:
    from cargoscan.physics.materials import get_material

    area = pitch_mm[0] * pitch_mm[1] / 100.0
    return sum(
        float(paths[m].sum()) * area * get_material(m).density_g_cm3 / 1000.0 for m in materials if m in paths
    )


def _draw_drug(rng: np.random.Generator) -> str:
    return "cocaine" if rng.random() < 0.6 else "heroin"  # as the synthesiser's plan


def _log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def _brick_block(
    c: _Canvas, material: str, mass_kg: float, y_cm: float, x_cm: float, h_cm: float, w_cm: float,
    rng: np.random.Generator, wrap: bool = True,
) -> np.ndarray:
    """``mass_kg`` of bricks over a box of the canvas: ≈ 30×5 cm brick faces (the synthesiser's seams), each
    at its own depth, wrapped in 0.8 cm of polyethylene; the drug's paths are scaled to the exact mass."""
    from cargoscan.physics.materials import get_material

    before = c.paths.get(material, np.zeros((c.h, c.w), np.float32)).copy()
    mask = np.zeros((c.h, c.w), bool)
    rows, cols = max(1, int(round(h_cm / 5.0))), max(1, int(round(w_cm / 30.0)))
    bh, bw = h_cm / rows, w_cm / cols
    for i in range(rows):
        for j in range(cols):
            mask |= c.box(material, y_cm + i * bh, x_cm + j * bw, bh, bw, rng.uniform(0.85, 1.0))
    added = c.paths[material] - before
    area = c.pitch_cm[0] * c.pitch_cm[1]
    scale = mass_kg * 1000.0 / (float(added.sum()) * area * get_material(material).density_g_cm3)
    c.paths[material] = before + added * np.float32(scale)
    if wrap:
        c.paths.setdefault("polyethylene", np.zeros((c.h, c.w), np.float32))[mask] += np.float32(0.8)
    return mask


def _brick_face(mass_kg: float, material: str, rng: np.random.Generator, max_depth_cm: float = 120.0):
    """(height, width, depth) in cm of a block of ``mass_kg`` of pressed bricks (packing 0.85)."""
    from cargoscan.physics.materials import get_material

    vol = mass_kg * 1000.0 / (get_material(material).density_g_cm3 * 0.85)
    side = vol ** (1.0 / 3.0)
    depth = float(np.clip(side * rng.uniform(0.7, 2.5), 5.0, max_depth_cm))
    face = vol / depth
    aspect = rng.uniform(1.0, 3.0)
    h = float(np.sqrt(face / aspect))
    return h, face / h, depth


#: Inner width of a loaded body across the beam (a covered wagon 2.76 m, a container 2.35 m). Contraband in the
#: cargo takes the place of goods: over its face it displaces (its depth along the beam) / this of the load.
LOAD_DEPTH_CM = 240.0


def _displaced(mask: np.ndarray, depth_cm: float) -> np.ndarray:
    """The ``removal`` map of an object ``depth_cm`` deep along the beam set into the goods: the share of the
    load's path it displaces over its own mask (the synthesiser cuts the goods the same way, ``synth.concealment``)."""
    return np.where(mask, np.float32(min(1.0, depth_cm / LOAD_DEPTH_CM)), np.float32(0.0)).astype(np.float32)


def drugs_bricks(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Bricks of cocaine or heroin hidden in the cargo: 1–500 kg (log-uniform, as the synthesiser), a block
    tilted by up to ±20°, displacing the goods it stands in for."""
    material = _draw_drug(rng)
    mass = _log_uniform(rng, *DRUG_MASS_KG)
    h, w, depth = _brick_face(mass, material, rng)
    c = _Canvas(h, w, _iso(pitch_mm))
    _brick_block(c, material, mass, 0, 0, h, w, rng)
    paths, mask = _finish(c, pitch_mm, rng.uniform(-20, 20))
    return ThreatPatch(
        "drugs_bricks",
        "in_cargo",
        paths,
        [PatchInstance("drugs", mask, material, _mass(paths, pitch_mm, material))],
        removal=_displaced(mask, depth),
    )


def cigarettes_cases(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Master cases of cigarettes (tobacco in cardboard): a pallet-sized block, 100–600 kg, in place of the goods
    it displaces (cigarettes among garments barely change the attenuation: the seams and the ratio tell)."""
    c = _Canvas(rng.uniform(40, 120), rng.uniform(60, 160), pitch_mm)
    depth = rng.uniform(40, 120)
    mask = c.box("tobacco", 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], depth * 0.55)
    c.box("cellulose", 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], depth * 0.05)
    return ThreatPatch(
        "cigarettes_cases",
        "in_cargo",
        c.paths,
        [PatchInstance("cigarettes", mask, "tobacco", c.mass_kg("tobacco") + c.mass_kg("cellulose"))],
        removal=_displaced(mask, depth),
    )


#: Firearms stacked along the beam, at most. The synthesiser stacks up to 6; beyond 4 pistols (≈ 7 cm of steel
#: in a 3.5 cm high object) the projection's multiplicative PSF model leaves the 2 % agreement with direct
#: rendering (tests/tip/test_projection_agreement.py), so deeper stacks stay the archive's own.
MAX_STACK = 4


def _consignment(rng: np.random.Generator, most: int) -> tuple[int, int]:
    """(stacked along the beam, side by side) for a single firearm (half the time) or a consignment of up to
    ``most`` (the synthesiser's counts), in stacks of at most :data:`MAX_STACK` with the rest beside them."""
    count = 1 if rng.random() < 0.5 else int(rng.integers(2, most + 1))
    stack = min(count, MAX_STACK)
    return stack, int(np.ceil(count / stack))


def rifle(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A rifle, or a consignment of up to 12 (stacks of up to 4 along the beam, side by side, parallel), seen
    side-on at any angle: steel barrel, receiver and magazine, wooden stock (≈ 4 kg each; the synthesiser's
    rifle is 3.6 kg of steel-equivalent)."""
    length = rng.uniform(85, 110)
    n, groups = _consignment(rng, 12)
    pitch_y = rng.uniform(25, 40)  # one rifle above the next
    c = _Canvas(22 + pitch_y * (groups - 1), length, _iso(pitch_mm))
    for g in range(groups):
        y = g * pitch_y
        c.box("steel", y + 6, 0, 2.5, length * 0.55, 1.2 * n)  # barrel
        c.box("steel", y + 5, length * 0.55, 8, length * 0.2, 1.5 * n)  # receiver
        c.box("steel", y + 12, length * 0.62, 8, 3.5, 1.5 * n)  # grip / magazine
        c.box("wood", y + 5, length * 0.75, 12, length * 0.25, 4.0 * n)  # stock
    paths, mask = _finish(c, pitch_mm, rng.uniform(0, 360))
    return ThreatPatch(
        "rifle",
        "in_cargo",
        paths,
        [PatchInstance("weapon", mask, "steel", _mass(paths, pitch_mm, "steel", "wood"))],
        removal=_displaced(mask, 8.0 * n),
    )


def pistol(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A pistol (≈ 1.1–1.4 kg of steel), or a consignment of up to 24 (stacks of up to 4 along the beam, side by
    side), seen side-on at any angle."""
    n, groups = _consignment(rng, 24)
    gap = rng.uniform(24, 35)
    c = _Canvas(15, 22 + gap * (groups - 1), _iso(pitch_mm))
    for g in range(groups):
        x = g * gap
        c.box("steel", 0, x, 3.5, 20, rng.uniform(1.4, 1.8) * n)  # slide
        c.box("steel", 3.5, x + 14, 10, 3.5, 1.4 * n)  # grip with magazine
    paths, mask = _finish(c, pitch_mm, rng.uniform(0, 360))
    return ThreatPatch(
        "pistol", "in_cargo", paths, [PatchInstance("weapon", mask, "steel", _mass(paths, pitch_mm, "steel"))],
        removal=_displaced(mask, 3.5 * n),
    )


def ammunition(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A steel ammunition box of cartridges (brass and lead as brass-equivalent), 30×18 cm faces, ≈ 8–15 kg,
    lying within ±10° of flat."""
    w, h = rng.uniform(25, 35), rng.uniform(15, 20)
    depth = rng.uniform(12, 20)  # along the beam
    c = _Canvas(h, w, _iso(pitch_mm))
    c.box("steel", 0, 0, h, w, 0.3)  # the two side walls across the beam
    c.box("steel", 0, 0, c.pitch_cm[0], w, depth * min(1.0, 0.15 / c.pitch_cm[0]))  # lid and bottom edge-on
    c.box("steel", h - c.pitch_cm[0], 0, c.pitch_cm[0], w, depth * min(1.0, 0.15 / c.pitch_cm[0]))
    c.box("brass", 1, 1, h - 2, w - 2, depth * rng.uniform(0.1, 0.18))  # cartridges: packing of brass
    paths, mask = _finish(c, pitch_mm, rng.uniform(-10, 10))
    return ThreatPatch(
        "ammunition",
        "in_cargo",
        paths,
        [PatchInstance("weapon", mask, "brass", _mass(paths, pitch_mm, "steel", "brass"))],
    )


def grenade(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A hand grenade: an ovoid steel body (≈ 6×9 cm) filled with explosive (ammonium-nitrate-like, the
    library's closest material), ≈ 0.4–0.7 kg, with its fuse lever at any angle."""
    ry, rx = rng.uniform(4.0, 5.0), rng.uniform(2.8, 3.4)  # cm
    c = _Canvas(2 * ry + 3, 2 * rx, _iso(pitch_mm))
    yy, xx = np.mgrid[0 : c.h, 0 : c.w].astype(np.float32)
    yy = (yy + 0.5) * c.pitch_cm[0] - (3 + ry)
    xx = (xx + 0.5) * c.pitch_cm[1] - rx
    q = 1.0 - (yy / ry) ** 2 - (xx / rx) ** 2
    chord = np.where(q > 0, 2.0 * rx * np.sqrt(np.clip(q, 0, None)), 0).astype(np.float32)  # through a body
    shell = 0.5
    inner = np.clip(chord - 2 * shell, 0, None)
    c.paths["steel"] = np.where(chord > 0, np.minimum(chord, 2 * shell + 0.15 * inner), 0).astype(np.float32)
    c.paths["fertilizer"] = (inner * 0.85).astype(np.float32)
    c.box("steel", 0, rx * 0.6, 3.5, 1.2, 1.5)  # fuse and lever
    paths, mask = _finish(c, pitch_mm, rng.uniform(0, 360))
    return ThreatPatch(
        "grenade",
        "in_cargo",
        paths,
        [PatchInstance("weapon", mask, "steel", _mass(paths, pitch_mm, "steel", "fertilizer"))],
    )


def false_front_wall(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A false end wall: a steel sheet across the wagon (edge-on: a dense line), a cavity of contraband."""
    height, cavity = rng.uniform(80, 180), rng.uniform(15, 40)
    c = _Canvas(height, cavity + 1.0, pitch_mm)
    # A 3 mm sheet across a 2.4 m wide body, seen edge-on, fills 3 mm of a column: average it over the column.
    sheet_path = 240.0 * min(1.0, 0.3 / c.pitch_cm[1])
    sheet = c.box("steel", 0, cavity, height, c.pitch_cm[1], sheet_path)
    material = str(rng.choice(["cocaine", "heroin", "tobacco"]))
    goods = c.box(material, height * 0.1, 0, height * 0.85, cavity, rng.uniform(60, 200))
    cls = "cigarettes" if material == "tobacco" else "drugs"
    return ThreatPatch(
        "false_front_wall",
        "false_front_wall",
        c.paths,
        [
            PatchInstance("hidden_compartment", sheet | _cavity(c, cavity), "steel", c.mass_kg("steel")),
            PatchInstance(cls, goods, material, c.mass_kg(material)),
        ],
    )


def false_floor(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A false floor: a steel sheet seen edge-on (a dense row) with flat packages of contraband beneath."""
    length, depth = rng.uniform(100, 250), rng.uniform(8, 20)
    c = _Canvas(depth + 1.0, length, pitch_mm)
    sheet = c.box("steel", 0, 0, c.pitch_cm[0], length, 240.0 * min(1.0, 0.3 / c.pitch_cm[0]))
    material = str(rng.choice(["cocaine", "tobacco"]))
    goods = c.box(material, c.pitch_cm[0], 0, depth, length, rng.uniform(60, 200))
    cls = "cigarettes" if material == "tobacco" else "drugs"
    return ThreatPatch(
        "false_floor",
        "false_floor",
        c.paths,
        [
            PatchInstance("hidden_compartment", sheet | goods, "steel", c.mass_kg("steel")),
            PatchInstance(cls, goods, material, c.mass_kg(material)),
        ],
    )


def _sheet_path(depth_cm: float, thick_cm: float, pitch_cm: float) -> float:
    """Path of a plate seen edge-on (``depth_cm`` along the beam, ``thick_cm`` thick) over one pixel."""
    return depth_cm * min(1.0, thick_cm / pitch_cm)


def _drugs_in(
    c: _Canvas, rng: np.random.Generator, y: float, x: float, h: float, w: float, depth: float,
    max_kg: float = np.inf,
) -> PatchInstance:
    """Bricks of drugs (1–500 kg log-uniform, at most what the box holds and ``max_kg``) packed against one
    end of a box of the canvas, full height, 50–90 % of ``depth`` along the beam."""
    from cargoscan.physics.materials import get_material

    drug = _draw_drug(rng)
    rho = get_material(drug).density_g_cm3
    d = depth * rng.uniform(0.5, 0.9)
    mass = min(_log_uniform(rng, *DRUG_MASS_KG), h * w * d * rho * 0.85 / 1000.0, max_kg)
    length = float(np.clip(mass * 1000.0 / (rho * 0.85 * h * d), min(w, 5.0), w))
    x0 = x + rng.uniform(0, w - length)
    mask = _brick_block(c, drug, mass, y, x0, h, length, rng)
    return PatchInstance("drugs", mask, drug, mass)


def _fill(
    c: _Canvas, rng: np.random.Generator, y: float, x: float, h: float, w: float, depth: float,
    empty_rate: float = 0.2,
) -> list[PatchInstance]:
    """Contraband in a compartment or cavity (a box of the canvas, ``depth`` cm along the beam): drugs,
    cigarettes or weapons with the synthesiser's shares (0.6, 0.25, 0.15), or nothing (``empty_rate``)."""
    from cargoscan.physics.materials import get_material

    if rng.random() < empty_rate or h < c.pitch_cm[0] or w < c.pitch_cm[1]:
        return []
    what = ["drugs", "cigarettes", "weapons"][int(rng.choice(3, p=[0.6, 0.25, 0.15]))]
    if what == "drugs":
        return [_drugs_in(c, rng, y, x, h, w, depth)]
    if what == "cigarettes":
        d = depth * rng.uniform(0.5, 0.9)
        length = w * rng.uniform(0.5, 1.0)
        x0 = x + rng.uniform(0, w - length)
        zero = np.zeros((c.h, c.w), np.float32)
        before = {m: c.paths.get(m, zero).copy() for m in ("tobacco", "cellulose")}
        mask = c.box("tobacco", y, x0, h, length, d * 0.55)
        c.box("cellulose", y, x0, h, length, d * 0.05)
        area = c.pitch_cm[0] * c.pitch_cm[1]
        mass = sum(
            float((c.paths[m] - before[m]).sum()) * area * get_material(m).density_g_cm3 for m in before
        ) / 1000.0
        return [PatchInstance("cigarettes", mask, "tobacco", mass)]
    # weapons: rifles lying along the cavity, stacked along the beam
    n = int(rng.integers(1, 4))
    before = c.paths.get("steel", np.zeros((c.h, c.w), np.float32)).copy()
    length = min(w, rng.uniform(85, 110))
    hh = min(h, 8.0)
    mask = c.box("steel", y + (h - hh) / 2, x, min(hh, 2.5), length * 0.55, 1.2 * n)
    mask |= c.box("steel", y + (h - hh) / 2, x + length * 0.55, hh, length * 0.45, 1.5 * n)
    area = c.pitch_cm[0] * c.pitch_cm[1]
    mass = float((c.paths["steel"] - before).sum()) * area * get_material("steel").density_g_cm3 / 1000.0
    return [PatchInstance("weapon", mask, "steel", mass)]


def _box_mask(c: _Canvas, y: float, x: float, h: float, w: float) -> np.ndarray:
    y0, x0 = c.px(y, x)
    y1, x1 = c.px(y + h, x + w)
    mask = np.zeros((c.h, c.w), bool)
    mask[max(y0, 0) : max(min(y1, c.h), y0 + 1), max(x0, 0) : max(min(x1, c.w), x0 + 1)] = True
    return mask


def false_roof(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A false roof: a steel sheet seen edge-on (a dense row) under the roof, flat packages above it (the
    synthesiser's compartment: 8–20 cm high)."""
    length, depth = rng.uniform(100, 300), rng.uniform(8, 20)
    c = _Canvas(depth + 1.0, length, pitch_mm)
    py = c.pitch_cm[0]
    sheet = c.box("steel", c.h * py - py, 0, py, length, _sheet_path(240.0, 0.4, py))
    steel = c.mass_kg("steel")
    contents = _fill(c, rng, 0, 0, c.h * py - py, length, 240.0 * 0.8)
    cavity = _box_mask(c, 0, 0, c.h * py - py, length)
    return ThreatPatch(
        "false_roof",
        "false_roof",
        c.paths,
        [PatchInstance("hidden_compartment", sheet | cavity, "steel", steel), *contents],
    )


def underframe_box(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A steel box welded under the floor (40–120 × 20–40 cm, 40–100 cm across the beam, 4–6 mm walls) with
    contraband in it: the side walls cover the face, the top, bottom and ends are plates seen edge-on."""
    w, h, depth, t = rng.uniform(40, 120), rng.uniform(20, 40), rng.uniform(40, 100), rng.uniform(0.4, 0.6)
    c = _Canvas(h, w, pitch_mm)
    py, px = c.pitch_cm
    mask = c.box("steel", 0, 0, h, w, 2 * t)  # the two side walls across the beam
    for yy in (0, h - py):
        c.box("steel", yy, 0, py, w, _sheet_path(depth, t, py))
    for xx in (0, w - px):
        c.box("steel", py, xx, h - 2 * py, px, _sheet_path(depth, t, px))
    steel = c.mass_kg("steel")
    contents = _fill(c, rng, py, px, h - 2 * py, w - 2 * px, depth - 2 * t, empty_rate=0.1)
    return ThreatPatch(
        "underframe_box",
        "underframe",
        c.paths,
        [PatchInstance("hidden_compartment", mask, "steel", steel), *contents],
    )


def structure_compartment(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A compartment built into the structure (the synthesiser's sill compartment, 24 cm high, 0.6–2 m long):
    two or three added steel plates edge-on (6 mm, 40 cm of path), sometimes a cross-member on top, and the
    goods between them (drugs up to span × 0.24 × 0.4 m³ × 900 kg/m³, or weapons)."""
    from cargoscan.physics.materials import get_material

    span, h = rng.uniform(60, 200), 24.0
    c = _Canvas(h, span, pitch_mm)
    py, px = c.pitch_cm
    plates = [0.0, span - px] + ([span * rng.uniform(0.3, 0.7)] if rng.random() < 0.5 else [])
    for xx in plates:
        c.box("steel", 0, xx, h, px, _sheet_path(40.0, 0.6, px))
    if rng.random() < 0.5:
        c.box("steel", 0, 0, py, span, _sheet_path(40.0, 0.6, py))  # cross-member, edge-on
    steel = c.mass_kg("steel")
    mask = _box_mask(c, 0, 0, h, span)
    if rng.random() < 0.85:
        cap = span / 100 * 0.24 * 0.4 * 900  # the synthesiser's cap
        contents = [_drugs_in(c, rng, 1.0, px + 1.0, h - 2.0, span - 2 * px - 2.0, 40.0, cap)]
    else:
        contents = _fill(c, rng, 1.0, px + 1.0, h - 2.0, span - 2 * px - 2.0, 40.0, empty_rate=0.0)
        contents = [i for i in contents if i.cls == "weapon"] or contents
    return ThreatPatch(
        "structure_compartment",
        "underframe",
        c.paths,
        [PatchInstance("hidden_compartment", mask, "steel", steel), *contents],
    )


def hollowed_goods(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Drugs packed inside a dense good: 50–85 % of the good's path (above the wall level) is cut out over a
    30–80 × 20–50 cm box (``removal``) and bricks of drugs (up to 50 cm deep) fill part of it."""
    w, h = rng.uniform(30, 80), rng.uniform(20, 50)
    c = _Canvas(h, w, pitch_mm)
    void = np.ones((c.h, c.w), bool)
    removal = np.full((c.h, c.w), rng.uniform(0.5, 0.85), np.float32)
    drugs = _drugs_in(c, rng, 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], rng.uniform(20, 50) / 0.7)
    return ThreatPatch(
        "hollowed_goods",
        "hollowed_goods",
        c.paths,
        [PatchInstance("void", void, "air", 0.0), drugs],
        removal=removal,
    )


def bulk_void(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Missing cargo: 40–80 % of the background's cargo path absent over a 40–120 × 30–80 cm box (the
    synthesiser's bulk void), sometimes (30 %) with contraband in the cavity."""
    w, h = 2 * rng.uniform(20, 60), 2 * rng.uniform(15, 40)
    c = _Canvas(h, w, pitch_mm)
    removal = np.full((c.h, c.w), rng.uniform(0.4, 0.8), np.float32)
    void = np.ones((c.h, c.w), bool)
    contents = _fill(c, rng, 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], 60.0, empty_rate=0.7)
    return ThreatPatch(
        "bulk_void",
        "hollowed_goods",
        c.paths,
        [PatchInstance("void", void, "air", 0.0), *contents],
        removal=removal,
    )


def _cavity(c: _Canvas, width_cm: float) -> np.ndarray:
    mask = np.zeros((c.h, c.w), bool)
    mask[:, : max(1, c.px(0, width_cm)[1])] = True
    return mask


THREATS: dict[str, Callable[[np.random.Generator, tuple[float, float]], ThreatPatch]] = {
    "drugs_bricks": drugs_bricks,
    "cigarettes_cases": cigarettes_cases,
    "rifle": rifle,
    "pistol": pistol,
    "false_front_wall": false_front_wall,
    "false_floor": false_floor,
    "false_roof": false_roof,
    "underframe_box": underframe_box,
    "structure_compartment": structure_compartment,
    "hollowed_goods": hollowed_goods,
    "bulk_void": bulk_void,
    "ammunition": ammunition,
    "grenade": grenade,
}


def list_threats() -> list[str]:
    """Names of the threats :func:`create_threat` makes."""
    return sorted(THREATS)


@functools.lru_cache(maxsize=None)
def threat_site(name: str) -> str:
    """The concealment site of a threat of the library (each one's is fixed): where it may be placed."""
    return create_threat(name, np.random.default_rng(0), (5.0, 5.0)).site


def create_threat(name: str, rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Make one threat patch at the scan's (row, column) pitch in mm."""
    if name not in THREATS:
        raise KeyError(f"unknown threat {name!r}; known: {list_threats()}")
    return THREATS[name](rng, pitch_mm)
