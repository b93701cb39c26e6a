"""Threats and concealments to project: material path-length patches built from the synthesiser's materials.

A :class:`ThreatPatch` is what the physics needs and what the labels say: per-material path maps (cm along the
beam, over a small H×W window at the scan's pitch) and the labelled instances inside the window. Objects are
drawn from the same materials (``cargoscan.synth.materials``) and at the same sizes as the synthesiser's
threats:
bricks of drugs, master cases of cigarettes, firearms, and false walls/floors with contraband behind them.

``list_threats()`` / ``create_threat(name, rng, pitch_mm)`` in the timm manner.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

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

    @property
    def shape(self) -> tuple[int, int]:
        return next(iter(self.paths.values())).shape

    @property
    def footprint(self) -> np.ndarray:
        """Pixels the patch attenuates at all."""
        return np.any([p > 0 for p in self.paths.values()], axis=0)


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
        from cargoscan.synth.materials import get_material

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


def drugs_bricks(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Bricks of cocaine or heroin hidden in the cargo: 30–80 kg."""
    material = str(rng.choice(["cocaine", "heroin"]))
    c = _Canvas(rng.uniform(20, 50), rng.uniform(30, 90), pitch_mm)
    mask = _bricks(c, material, rng, depth_cm=rng.uniform(20, 50))
    return ThreatPatch(
        "drugs_bricks", "in_cargo", c.paths, [PatchInstance("drugs", mask, material, c.mass_kg(material))]
    )


def cigarettes_cases(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Master cases of cigarettes (tobacco in cardboard): a pallet-sized block, 100–600 kg."""
    c = _Canvas(rng.uniform(40, 120), rng.uniform(60, 160), pitch_mm)
    depth = rng.uniform(40, 120)
    mask = c.box("tobacco", 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], depth * 0.55)
    c.box("cellulose", 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], depth * 0.05)
    return ThreatPatch(
        "cigarettes_cases",
        "in_cargo",
        c.paths,
        [PatchInstance("cigarettes", mask, "tobacco", c.mass_kg("tobacco") + c.mass_kg("cellulose"))],
    )


def rifle(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A rifle seen side-on: steel barrel and receiver, wooden stock (≈ 4 kg)."""
    length = rng.uniform(85, 110)
    c = _Canvas(22, length, pitch_mm)
    barrel = c.box("steel", 6, 0, 2.5, length * 0.55, 2.0)
    receiver = c.box("steel", 5, length * 0.55, 8, length * 0.2, 3.5)
    grip = c.box("steel", 12, length * 0.62, 8, 3.5, 2.5)
    stock = c.box("wood", 5, length * 0.75, 12, length * 0.25, 4.0)
    mask = barrel | receiver | grip | stock
    return ThreatPatch(
        "rifle",
        "in_cargo",
        c.paths,
        [PatchInstance("weapon", mask, "steel", c.mass_kg("steel") + c.mass_kg("wood"))],
    )


def pistol(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A pistol seen side-on (≈ 1 kg of steel)."""
    c = _Canvas(15, 22, pitch_mm)
    mask = c.box("steel", 0, 0, 3.5, 20, rng.uniform(2.5, 3.2)) | c.box("steel", 3.5, 14, 10, 3.5, 3.0)
    return ThreatPatch(
        "pistol", "in_cargo", c.paths, [PatchInstance("weapon", mask, "steel", c.mass_kg("steel"))]
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
}


def list_threats() -> list[str]:
    """Names of the threats :func:`create_threat` makes."""
    return sorted(THREATS)


def create_threat(name: str, rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Make one threat patch at the scan's (row, column) pitch in mm."""
    if name not in THREATS:
        raise KeyError(f"unknown threat {name!r}; known: {list_threats()}")
    return THREATS[name](rng, pitch_mm)
