"""The threat catalogue: every object the project hides in a wagon, defined once.

Two things draw threats: the synthesiser places them into its loaded scenes (:mod:`cargoscan.synth.concealment`)
and threat image projection renders them as standalone patches for real scans (``cargoscan.tip.library``).
What an object is made of, its shape, its size and its mass law live here, so the two can only differ in how
they place and rasterise an object, never in what it is. Materials are names of ``cargoscan.physics.materials``.

=================== ==========================================================================================
object              definition
=================== ==========================================================================================
drug bricks         cocaine (60 %) or heroin, 1–500 kg a load (log-uniform, ``synth.threats.drug_mass_kg``),
                    pressed bricks with 30×5 cm faces at 85 % packing, wrapped in 0.8 cm of polyethylene
cigarette case      a master case of 50 cartons: 60×30×45 cm, 11 kg (85 % tobacco, 15 % cardboard); 20–399
                    cases a consignment
rifle, pistol,      steel-equivalent templates (rectangles, cm of steel per piece) with the mass of one piece;
ammo box            consignments of up to 11 rifles, 24 pistols or 9 boxes, stacked ≤ 6 deep along the beam
grenade             an ovoid steel body, 0.5 cm shell, ammonium-nitrate-like filling, a fuse and lever
compartments        false front wall, floor and roof (4 mm sheets over 90 % of the body's width), a sill
                    compartment (6 mm plates 40 cm across); and the cavities of a bulk void or hollowed goods
=================== ==========================================================================================

``list_firearms()`` / ``create_firearm(name)``, ``list_compartments()`` / ``create_compartment(name)`` and
``list_cavities()`` / ``create_cavity(name)`` in the timm manner; the single objects are module constants
(:data:`BRICK`, :data:`CIGARETTE_CASE`, :data:`GRENADE`). The firearm templates are *steel-equivalent* shapes
whose rectangles weigh 1.3–3.1 × a piece's stated mass (:meth:`Firearm.template_kg`): the synthesiser and projection
both scale them to the stated mass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from cargoscan.physics.materials import get_material

#: What a filled compartment holds, with its shares (the planner, ``synth.manifest``, draws through
#: :func:`draw_contents`).
CONTENTS: dict[str, float] = {"drugs": 0.6, "cigarettes": 0.25, "weapons": 0.15}
#: The drugs smuggled in bricks, with their shares.
DRUGS: dict[str, float] = {"cocaine": 0.6, "heroin": 0.4}
#: Mass of one drug load (kg), log-uniform: the default of the planner's ``synth.threats.drug_mass_kg``.
DRUG_MASS_KG: tuple[float, float] = (1.0, 500.0)
#: Relative path through a seam between packages (gaps between bricks or cases, tape): seams show in a scan.
SEAM_PATH = 0.8
#: Firearms stacked along the beam at most; a larger consignment lies beside the stack.
FIREARM_STACK = 6


def draw_contents(rng: np.random.Generator) -> str:
    """What a filled compartment holds: ``drugs``, ``cigarettes`` or ``weapons`` with :data:`CONTENTS`' shares."""
    names = list(CONTENTS)
    return names[int(rng.choice(len(names), p=list(CONTENTS.values())))]


def draw_drug(rng: np.random.Generator) -> str:
    """The drug of a load, with :data:`DRUGS`' shares (one uniform draw, as the planner)."""
    return "cocaine" if rng.random() < DRUGS["cocaine"] else "heroin"


def log_uniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    """A draw spread evenly over orders of magnitude: as many seizures of 1–10 kg as of 10–100 kg."""
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


def draw_drug_mass(rng: np.random.Generator, law: tuple[float, float] = DRUG_MASS_KG) -> float:
    """The mass (kg) of one drug load under its log-uniform law."""
    return log_uniform(rng, *law)


@dataclass(frozen=True)
class DrugBrick:
    """Pressed bricks of a drug, taped and wrapped: their seams and the wrap are what an analyst sees."""

    face_m: tuple[float, float] = (0.3, 0.05)  # a brick's face: along the train, height (the seams' period)
    packing: float = 0.85                      # the drug's share of a block's volume (tape, gaps)
    wrap: str = "polyethylene"
    wrap_cm: float = 0.8                       # wrap along the beam over a block's face

    def volume_m3(self, drug: str, mass_kg: float) -> float:
        """Volume of a block holding ``mass_kg`` of ``drug`` at this packing."""
        return mass_kg / (1000.0 * float(get_material(drug).density_g_cm3) * self.packing)


@dataclass(frozen=True)
class MasterCase:
    """A master case of cigarettes: 50 cartons in cardboard, stacked in consignments of many cases."""

    size_m: tuple[float, float, float] = (0.6, 0.3, 0.45)  # along the train, height, across (along the beam)
    mass_kg: float = 11.0
    tobacco_share: float = 0.85   # of the mass; the rest is cardboard
    cardboard_share: float = 0.15
    count: tuple[int, int] = (20, 400)  # cases a consignment: ``rng.integers(*count)``

    @property
    def materials(self) -> dict[str, float]:
        """Mass share per material."""
        return {"tobacco": self.tobacco_share, "cellulose": self.cardboard_share}


@dataclass(frozen=True)
class Part:
    """A rectangle of a template: its corner's offset from the template's centre, its size (m, along the train
    and down) and the steel-equivalent path (cm along the beam) through it."""

    x0: float
    z0: float
    w: float
    h: float
    path_cm: float


@dataclass(frozen=True)
class Firearm:
    """A weapon drawn from rectangles of steel-equivalent path, and what one piece weighs."""

    name: str
    parts: tuple[Part, ...]
    size_m: float        # the template's extent (a square canvas of this side holds it at any angle)
    mass_kg: float       # one piece
    material: str        # what the label says it is made of (the drawing is steel-equivalent)
    max_count: int       # a consignment holds 1 … max_count − 1 pieces (``rng.integers(1, max_count)``)
    share: float         # of weapons consignments
    tilt_rad: float      # drawn within ± this of level (0: lies flat)
    depth_m: float       # thickness along the beam: the goods one piece displaces
    drawn: str = "steel"

    def template_kg(self) -> float:
        """Mass of the template's rectangles as written (steel); what is drawn is scaled to :attr:`mass_kg`."""
        rho = float(get_material(self.drawn).density_g_cm3)
        return sum(p.w * p.h * 1e4 * p.path_cm for p in self.parts) * rho / 1000.0

    def extent_m(self) -> tuple[float, float, float, float]:
        """(x0, z0, x1, z1) of the template's parts around its centre."""
        return (min(p.x0 for p in self.parts), min(p.z0 for p in self.parts),
                max(p.x0 + p.w for p in self.parts), max(p.z0 + p.h for p in self.parts))


def rifle() -> Firearm:
    """A rifle side-on: barrel, receiver, magazine and stock (the wood and fittings as steel-equivalent)."""
    parts = (Part(-0.5, -0.012, 0.6, 0.024, 1.6),   # barrel
             Part(0.05, -0.03, 0.25, 0.07, 4.0),    # receiver
             Part(0.12, 0.04, 0.05, 0.18, 3.0),     # magazine
             Part(0.30, -0.02, 0.25, 0.09, 1.0))    # stock
    return Firearm("rifle", parts, 1.1, 3.6, "steel", 12, 0.45, 0.4, 0.08)


def pistol() -> Firearm:
    """A pistol side-on: slide, and grip with its magazine."""
    parts = (Part(-0.09, -0.02, 0.18, 0.035, 2.6),   # slide
             Part(0.04, 0.015, 0.035, 0.1, 2.6))     # grip with magazine
    return Firearm("pistol", parts, 0.25, 0.9, "steel", 25, 0.35, 0.4, 0.035)


def ammo_box() -> Firearm:
    """A steel box of cartridges (brass and lead as steel-equivalent), lying flat: labelled brass."""
    parts = (Part(-0.15, -0.09, 0.3, 0.18, 0.3),     # steel box walls
             Part(-0.14, -0.08, 0.28, 0.16, 4.0))    # cartridges
    return Firearm("ammo_box", parts, 0.4, 12.0, "brass", 10, 0.2, 0.0, 0.15)


#: In the synthesiser's draw order (its shares are drawn in this order).
FIREARMS: dict[str, Callable[[], Firearm]] = {"rifle": rifle, "pistol": pistol, "ammo_box": ammo_box}


def list_firearms() -> list[str]:
    """Names :func:`create_firearm` knows, in the synthesiser's draw order."""
    return list(FIREARMS)


def create_firearm(name: str) -> Firearm:
    """The definition of one firearm (or ammunition box) by name."""
    if name not in FIREARMS:
        raise KeyError(f"unknown firearm {name!r}; known: {list_firearms()}")
    return FIREARMS[name]()


@dataclass(frozen=True)
class Grenade:
    """A hand grenade: an ovoid steel body filled with explosive (the library's closest material)."""

    semi_axes_cm: tuple[tuple[float, float], tuple[float, float]] = ((4.0, 5.0), (2.8, 3.4))  # (long, short)
    shell_cm: float = 0.5
    liner: float = 0.15                # steel share of the inner chord (fragmentation liner)
    filling: str = "fertilizer"
    fill: float = 0.85                 # filling share of the inner chord
    fuse_cm: tuple[float, float, float] = (3.5, 1.2, 1.5)  # fuse and lever on top: height, width, path
    fuse_at: float = 0.6               # the fuse's offset from the axis, in short semi-axes
    mass_kg: tuple[float, float] = (0.5, 0.9)


@dataclass(frozen=True)
class Compartment:
    """Where contraband is hidden: a cavity (its extent drawn from ``size_m``) closed by steel sheets or plates.

    ``size_m`` is the cavity's depth: along the train for a false front wall and a sill compartment, height for
    a false floor or roof; ``span`` its other side (for floors and roofs: a share of the unit's length).
    """

    name: str
    sheet_m: float                     # thickness of the sheet or plates
    size_m: tuple[float, float]
    span: tuple[float, float] = (0.0, 0.0)
    width_share: float = 0.9           # a sheet spans this share of the body's width along the beam
    plate_cm: float = 0.0              # path along the beam through a sill plate (it is 40 cm across)
    height_m: float = 0.0              # fixed height (a sill compartment)
    across_m: float = 0.0              # fixed depth along the beam (a sill compartment)
    load_kg_m3: float = 0.0            # the most contraband it holds per m³


def false_front_wall() -> Compartment:
    """A false end wall: a 4 mm sheet across the body 0.3–0.8 m from the end wall."""
    return Compartment("false_front_wall", 0.004, (0.3, 0.8))


def false_floor() -> Compartment:
    """A false floor: a 4 mm sheet 8–20 cm above the floor over 30–80 % of the unit's length."""
    return Compartment("false_floor", 0.004, (0.08, 0.2), span=(0.3, 0.8))


def false_roof() -> Compartment:
    """A false roof: a 4 mm sheet 8–20 cm under the roof over 30–80 % of the unit's length."""
    return Compartment("false_roof", 0.004, (0.08, 0.2), span=(0.3, 0.8))


def structure_compartment() -> Compartment:
    """A compartment in the sills: 6 mm plates 40 cm across closing a 0.6–2 m long, 24 cm high box."""
    return Compartment("structure_compartment", 0.006, (0.6, 2.0), plate_cm=40.0, height_m=0.24, across_m=0.4,
                       load_kg_m3=900.0)


@dataclass(frozen=True)
class Cavity:
    """Missing cargo: a box (sides ``along_m`` × ``up_m``, or half-sides around a centre when ``half``) where a
    share ``removed`` of the goods is absent."""

    name: str
    along_m: tuple[float, float]
    up_m: tuple[float, float]
    removed: tuple[float, float]
    half: bool = False


def bulk_void() -> Cavity:
    """A cavity dug into bulk cargo: half-sides 0.3–1 m along, 0.2–0.6 m up; 40–80 % of the bulk gone."""
    return Cavity("bulk_void", (0.3, 1.0), (0.2, 0.6), (0.4, 0.8), half=True)


def hollowed_goods() -> Cavity:
    """Goods hollowed out: 0.4–1.2 m along, 0.3–0.8 m up, 50–85 % of them cut out."""
    return Cavity("hollowed_goods", (0.4, 1.2), (0.3, 0.8), (0.5, 0.85))


COMPARTMENTS: dict[str, Callable[[], Compartment]] = {
    "false_front_wall": false_front_wall, "false_floor": false_floor, "false_roof": false_roof,
    "structure_compartment": structure_compartment,
}
CAVITIES: dict[str, Callable[[], Cavity]] = {"bulk_void": bulk_void, "hollowed_goods": hollowed_goods}


def list_compartments() -> list[str]:
    """Names :func:`create_compartment` knows."""
    return sorted(COMPARTMENTS)


def create_compartment(name: str) -> Compartment:
    """The definition of one compartment by name."""
    if name not in COMPARTMENTS:
        raise KeyError(f"unknown compartment {name!r}; known: {list_compartments()}")
    return COMPARTMENTS[name]()


def list_cavities() -> list[str]:
    """Names :func:`create_cavity` knows."""
    return sorted(CAVITIES)


def create_cavity(name: str) -> Cavity:
    """The definition of one cavity (missing cargo) by name."""
    if name not in CAVITIES:
        raise KeyError(f"unknown cavity {name!r}; known: {list_cavities()}")
    return CAVITIES[name]()


BRICK = DrugBrick()
CIGARETTE_CASE = MasterCase()
GRENADE = Grenade()
