"""The objects cargo really consists of, as the beam sees them: per-material path maps over a bounding box.

The beam crosses the train horizontally (along ``y``), so an object's image is, per material, the path (cm)
through its 3-D shape at each (x along the train, z height): a carton's contents, a tyre's ring, a drum's chord
profile. Each builder draws one object of a given size from 3-D primitives projected along ``y`` (boxes, cylinders
lying along ``x`` or standing along ``z``, discs with the axis along the beam, ellipsoids), with its internal
structure (the shoes in a shoe carton, the windings in a motor, the liquid level in a drum). Texture in the scan
then comes from the geometry of many such objects summed through the container's width, not from added noise.

Builders take a :class:`Frame` (the object's pixel grid) and the scan's random generator and return an
:class:`Item`. Packaging (carton walls, crates, pallets, drum shells) goes into ``pack``, the goods into ``goods``:
truth weighs the goods only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Frame:
    """The pixel grid of an object of ``dx`` × ``dz`` m (x along the train, z up) and ``dy`` m along the beam.

    ``x`` (1, W) and ``z`` (H, 1) are pixel-centre coordinates from the object's left and bottom edges; row 0 is
    the top, as in the scene.
    """

    dx: float
    dz: float
    dy: float
    col_pitch: float
    row_pitch: float

    @property
    def shape(self) -> tuple[int, int]:
        return max(1, int(round(self.dz / self.row_pitch))), max(1, int(round(self.dx / self.col_pitch)))

    @property
    def x(self) -> np.ndarray:
        return ((np.arange(self.shape[1], dtype=np.float32) + 0.5) * self.col_pitch)[None, :]

    @property
    def z(self) -> np.ndarray:
        h = self.shape[0]
        return (self.dz - (np.arange(h, dtype=np.float32) + 0.5) * self.row_pitch)[:, None]


@dataclass
class Item:
    """One object: its size (m), per-material paths (cm) of goods and packaging, and a hollow (object-relative
    box x0, x1, z0, z1 in m, with its extent along the beam) where contraband can replace the goods."""

    kind: str
    frame: Frame
    goods: dict[str, np.ndarray] = field(default_factory=dict)
    pack: dict[str, np.ndarray] = field(default_factory=dict)
    hollow: tuple[float, float, float, float, float] | None = None

    def add(self, layer: str, material: str, path_cm) -> None:
        """Add ``path_cm`` (broadcast to the frame) of ``material`` to ``goods`` or ``pack``."""
        d = self.goods if layer == "goods" else self.pack
        arr = np.broadcast_to(np.asarray(path_cm, np.float32), self.frame.shape)
        if material in d:
            d[material] = d[material] + arr
        else:
            d[material] = np.array(arr, np.float32)

    def mass_kg(self, layer: str = "goods") -> float:
        from cargoscan.synth.scene import _density

        area = self.frame.col_pitch * self.frame.row_pitch * 1e4
        d = self.goods if layer == "goods" else self.pack
        return sum(float(p.sum()) * area * _density(m) / 1000.0 for m, p in d.items())

    def scale_goods(self, k: float) -> None:
        for m in self.goods:
            self.goods[m] = self.goods[m] * np.float32(k)


# --- 3-D primitives projected along the beam (metres in, metres of path out) -----------------------------------

def box(f: Frame, x0: float, x1: float, z0: float, z1: float) -> np.ndarray:
    """Coverage (0..1, anti-aliased) of the rectangle [x0, x1] × [z0, z1]: multiply by the depth along the beam."""
    cx = np.clip(np.minimum(f.x - x0, x1 - f.x) / f.col_pitch + 0.5, 0, 1)
    cz = np.clip(np.minimum(f.z - z0, z1 - f.z) / f.row_pitch + 0.5, 0, 1)
    return (cz * cx).astype(np.float32)


def chord(u: np.ndarray, centre: float, r: float) -> np.ndarray:
    """Chord 2√(r² − (u − c)²) of a circle of radius ``r``: the path through a cylinder whose axis is
    perpendicular both to the beam and to ``u``."""
    return (2.0 * np.sqrt(np.clip(r * r - (u - centre) ** 2, 0.0, None))).astype(np.float32)


def tube_chord(u: np.ndarray, centre: float, r: float, wall: float) -> np.ndarray:
    """Path through the wall of a tube (outer radius ``r``) whose axis is perpendicular to ``u`` and the beam."""
    return chord(u, centre, r) - chord(u, centre, max(r - wall, 0.0))


def disc(f: Frame, xc: float, zc: float, rx: float, rz: float) -> np.ndarray:
    """Coverage of an ellipse (a cylinder whose axis runs along the beam)."""
    rho = np.sqrt(((f.x - xc) / rx) ** 2 + ((f.z - zc) / rz) ** 2)
    return np.clip((1.0 - rho) * min(rx / f.col_pitch, rz / f.row_pitch) + 0.5, 0, 1).astype(np.float32)


def ellipsoid(f: Frame, xc: float, zc: float, rx: float, rz: float) -> np.ndarray:
    """Relative path √(1 − ρ²) through an ellipsoid (multiply by its full depth along the beam)."""
    rho2 = ((f.x - xc) / rx) ** 2 + ((f.z - zc) / rz) ** 2
    return np.sqrt(np.clip(1.0 - rho2, 0.0, None)).astype(np.float32)


def carton(it: Item, board_cm: float = 0.5, material: str = "cellulose") -> None:
    """A carton's walls: the faces across the beam (two boards everywhere) and the faces along it (the whole
    depth of board over the board's thickness at the edges)."""
    f = it.frame
    t = board_cm / 100.0
    fibre = 0.08                    # fluted board: ~600 g/m² over 5 mm, 8 % of solid cellulose
    it.add("pack", material, 2 * board_cm * fibre * box(f, 0, f.dx, 0, f.dz))
    edge = box(f, 0, t, 0, f.dz) + box(f, f.dx - t, f.dx, 0, f.dz) + box(f, 0, f.dx, 0, t) \
        + box(f, 0, f.dx, f.dz - t, f.dz)
    it.add("pack", material, np.minimum(edge, 1.0) * f.dy * 100.0 * fibre)


# --- the objects ------------------------------------------------------------------------------------------------

def garments(f: Frame, rng: np.random.Generator) -> Item:
    """A carton of folded garments in polybags: horizontal layers of textile with thin air between them."""
    it = Item("carton_garments", f)
    z, n = 0.01, 0
    while z < f.dz - 0.02 and n < 40:
        h = rng.uniform(0.025, 0.06)
        it.add("goods", "textile", f.dy * 100 * rng.uniform(0.35, 0.6) * box(f, 0.01, f.dx - 0.01, z, z + h))
        z += h + rng.uniform(0.0, 0.01)
        n += 1
    carton(it)
    return it


def bale(f: Frame, rng: np.random.Generator) -> Item:
    """A compressed bale of textiles or fibre with steel strapping (bands round it, across the beam)."""
    it = Item("bale", f)
    bulge = 0.6 + 0.4 * ellipsoid(f, f.dx / 2, f.dz / 2, f.dx * 0.75, f.dz * 0.75)
    it.add("goods", "textile", f.dy * 100 * 0.5 * bulge * box(f, 0.01, f.dx - 0.01, 0.01, f.dz - 0.01))
    for xs in np.linspace(0.15, f.dx - 0.15, int(rng.integers(3, 6))):
        it.add("pack", "steel", f.dy * 100 * 0.02 * box(f, xs - 0.01, xs + 0.01, 0, f.dz))
    return it


def shoes(f: Frame, rng: np.random.Generator) -> Item:
    """A carton of shoe boxes, each with a pair of shoes: rubber soles, leather uppers, card boxes."""
    it = Item("carton_shoes", f)
    bx, bz = rng.uniform(0.3, 0.36), rng.uniform(0.1, 0.13)
    nx, nz = max(1, int(f.dx / bx)), max(1, int(f.dz / bz))
    deep = max(1, int(f.dy / 0.2))                         # shoe boxes behind each other along the beam
    for i in range(nx):
        for k in range(nz):
            x0, z0 = i * bx, k * bz
            for _ in range(deep):
                off = rng.uniform(-0.02, 0.02)
                flip = rng.random() < 0.5
                sole_z = z0 + (0.015 if not flip else bz - 0.045)
                it.add("goods", "rubber", 2 * 9.0 * box(f, x0 + 0.02 + off, x0 + bx - 0.03 + off, sole_z,
                                                          sole_z + 0.03))
                it.add("goods", "leather", 2 * 10.0 * 0.35 * ellipsoid(f, x0 + bx / 2 + off, z0 + bz / 2,
                                                                     bx * 0.42, bz * 0.45))
                it.add("goods", "cellulose", 6.0 * 0.3 * box(f, x0 + 0.01, x0 + bx - 0.01, z0 + 0.005,
                                                             z0 + bz - 0.005))
    carton(it)
    return it


def electronics(f: Frame, rng: np.random.Generator) -> Item:
    """A carton with a device: a TV (glass panel, steel back, board, foam) or a computer (steel chassis, power
    supply with its transformer, drives), or many small boxed phones."""
    it = Item("carton_electronics", f)
    kind = rng.choice(3)
    d = f.dy * 100
    if kind == 0:      # a TV standing in the carton: the panel's plane crosses the beam
        it.add("goods", "glass", 0.4 * box(f, 0.06, f.dx - 0.06, 0.08, f.dz - 0.06))
        it.add("goods", "steel", 0.15 * box(f, 0.07, f.dx - 0.07, 0.09, f.dz - 0.07))
        it.add("goods", "plastic_abs", 0.5 * box(f, 0.05, f.dx - 0.05, 0.07, f.dz - 0.05))
        cx = rng.uniform(0.3, 0.7) * f.dx
        it.add("goods", "steel", d * 0.08 * box(f, cx - 0.12, cx + 0.12, 0.15, 0.3))    # stand and bracket
        it.add("goods", "copper", 2.0 * box(f, cx - 0.08, cx + 0.08, f.dz * 0.4, f.dz * 0.5))
        for zc in (0.04, f.dz - 0.04):                                               # foam corner blocks
            it.add("pack", "polyethylene", d * 0.03 * box(f, 0.0, f.dx, zc - 0.04, zc + 0.04))
    elif kind == 1:    # a computer: a steel box seen through, its faces along the beam edge-on
        m = 0.04
        it.add("goods", "steel", 2 * 0.08 * box(f, m, f.dx - m, m, f.dz - m))
        for x0, x1, z0, z1 in ((m, m + 0.008, m, f.dz - m), (f.dx - m - 0.008, f.dx - m, m, f.dz - m),
                               (m, f.dx - m, m, m + 0.008), (m, f.dx - m, f.dz - m - 0.008, f.dz - m)):
            it.add("goods", "steel", (d - 8) * 0.1 * box(f, x0, x1, z0, z1))
        px, pz = rng.uniform(0.1, f.dx - 0.25), rng.uniform(0.1, f.dz - 0.2)
        it.add("goods", "steel", 14 * 0.1 * box(f, px, px + 0.15, pz, pz + 0.09))         # power supply
        it.add("goods", "copper", 4 * 0.5 * ellipsoid(f, px + 0.07, pz + 0.045, 0.03, 0.025))
        it.add("goods", "aluminium", 10 * 0.3 * box(f, m + 0.02, m + 0.12, m + 0.02, m + 0.05))  # drives
        it.add("goods", "plastic_abs", d * 0.06 * box(f, m, f.dx - m, m, f.dz - m))           # boards, cables
    else:              # small boxed devices (phones, routers): a grid of boxes with a dense core each
        bx, bz = rng.uniform(0.08, 0.12), rng.uniform(0.05, 0.08)
        for i in range(max(1, int(f.dx / bx))):
            for k in range(max(1, int(f.dz / bz))):
                x0, z0 = i * bx, k * bz
                it.add("goods", "cellulose", d * 0.08 * box(f, x0 + 0.004, x0 + bx - 0.004, z0 + 0.004, z0 + bz))
                it.add("goods", "glass", d * 0.03 * box(f, x0 + 0.015, x0 + bx - 0.015, z0 + 0.015,
                                                        z0 + bz - 0.02))
                it.add("goods", "copper", d * 0.004 * box(f, x0 + 0.02, x0 + bx - 0.02, z0 + 0.02,
                                                          z0 + bz - 0.025))
    carton(it)
    return it


def machine(f: Frame, rng: np.random.Generator) -> Item:
    """A machine in a wooden crate on a steel skid: a motor (steel shell, copper windings, shaft), a cast body
    with cores (pump or gearbox), a welded frame of hollow sections."""
    it = Item("machine", f)
    d = f.dy * 100
    skid = 0.12
    it.add("goods", "steel", 2 * 1.0 * box(f, 0.05, f.dx - 0.05, 0.0, skid))             # skid channels
    it.add("goods", "steel", d * 0.1 * box(f, 0.05, f.dx - 0.05, skid - 0.01, skid))
    for xs in np.linspace(0.08, f.dx - 0.08, 4):                                          # frame posts (tubes)
        it.add("goods", "steel", 4 * 0.5 * box(f, xs - 0.04, xs + 0.04, skid, f.dz * rng.uniform(0.5, 0.85)))
    r = rng.uniform(0.1, min(0.2, f.dz / 4))                                              # motor along the beam
    mx, mz = rng.uniform(r + 0.1, f.dx / 2), skid + r + 0.05
    length = min(f.dy * 0.6, rng.uniform(0.25, 0.5)) * 100
    it.add("goods", "steel", length * 0.08 * disc(f, mx, mz, r, r))                       # shell and laminations
    it.add("goods", "copper", length * 0.06 * disc(f, mx, mz, r * 0.7, r * 0.7))         # windings
    it.add("goods", "steel", length * 0.5 * disc(f, mx, mz, 0.02, 0.02))                  # shaft
    cx, cz = rng.uniform(f.dx / 2, f.dx - 0.3), skid + rng.uniform(0.25, 0.4)             # casting with a core
    rx, rz = rng.uniform(0.15, 0.3), rng.uniform(0.15, 0.25)
    depth = min(f.dy * 0.8, 0.4) * 100
    shell = ellipsoid(f, cx, cz, rx, rz) - 0.8 * ellipsoid(f, cx, cz, rx * 0.8, rz * 0.8)
    it.add("goods", "steel", depth * 0.35 * shell)
    it.add("goods", "aluminium", depth * 0.2 * ellipsoid(f, cx, cz + rz, rx * 0.6, rz * 0.5))
    # crate: planks round it (sides across the beam, planks along it at the ends and top)
    it.add("pack", "wood", 2 * 2.0 * 0.7 * box(f, 0, f.dx, 0, f.dz))
    it.add("pack", "wood", d * 0.7 * (box(f, 0, 0.02, 0, f.dz) + box(f, f.dx - 0.02, f.dx, 0, f.dz)
                                      + box(f, 0, f.dx, f.dz - 0.02, f.dz)))
    return it


def parts(f: Frame, rng: np.random.Generator) -> Item:
    """A crate of car parts: brake discs stacked flat, drums, castings, boxes of pads and filters."""
    it = Item("crate_parts", f)
    d = f.dy * 100
    x = 0.04
    while x < f.dx - 0.25:
        kind = rng.choice(3)
        w = rng.uniform(0.25, 0.4)
        if kind == 0:   # brake discs stacked flat (axis vertical): chord profile in x, a disc every few cm
            r = w / 2
            n = int(rng.integers(3, 9))
            cut = chord(f.x, x + r, r) * 100
            for k in range(n):
                z0 = 0.03 + k * rng.uniform(0.05, 0.07)
                if z0 + 0.03 > f.dz:
                    break
                it.add("goods", "steel", cut * 0.55 * box(f, x, x + w, z0, z0 + 0.028))
        elif kind == 1:  # boxes of pads/filters: card boxes, a dense layer in each
            for z0 in np.arange(0.03, f.dz - 0.12, 0.12):
                it.add("goods", "steel", d * 0.01 * box(f, x, x + w, z0 + 0.02, z0 + 0.05))
                it.add("goods", "rubber", d * 0.05 * box(f, x, x + w, z0, z0 + 0.1))
        else:            # a casting (hub, knuckle): thick shell with a core
            cz = rng.uniform(0.15, max(0.16, f.dz - 0.2))
            it.add("goods", "steel", min(d, 40) * 0.4 * (ellipsoid(f, x + w / 2, cz, w / 2, 0.12)
                                                        - 0.7 * ellipsoid(f, x + w / 2, cz, w / 4, 0.06)))
        x += w + rng.uniform(0.02, 0.06)
    it.add("pack", "wood", 2 * 2.0 * 0.7 * box(f, 0, f.dx, 0, f.dz))
    it.add("pack", "wood", d * 0.7 * (box(f, 0, 0.02, 0, f.dz) + box(f, f.dx - 0.02, f.dx, 0, f.dz)))
    return it


def tyre(f: Frame, rng: np.random.Generator, standing: bool | None = None) -> Item:
    """A tyre: standing with its axis along the beam (a ring: tread and sidewalls, the steel belt a thin ring),
    or lying flat in a stack (the axis vertical: a hollow cylinder's chord profile, the hole seen through)."""
    it = Item("tyre", f)
    if standing is None:
        standing = f.dz > f.dy
    if standing:
        r = min(f.dx, f.dz) / 2
        ring = disc(f, f.dx / 2, f.dz / 2, r, r) - disc(f, f.dx / 2, f.dz / 2, r * 0.62, r * 0.62)
        tread = disc(f, f.dx / 2, f.dz / 2, r, r) - disc(f, f.dx / 2, f.dz / 2, r * 0.88, r * 0.88)
        it.add("goods", "rubber", 2 * 1.2 * ring + f.dy * 100 * 0.12 * tread)    # sidewalls + tread across
        it.add("goods", "steel", f.dy * 100 * 0.008 * tread)                       # steel belt
        it.add("goods", "steel", 2 * 1.5 * (disc(f, f.dx / 2, f.dz / 2, r * 0.64, r * 0.64)
                                            - disc(f, f.dx / 2, f.dz / 2, r * 0.6, r * 0.6)))   # bead wires
        it.hollow = (f.dx / 2 - r * 0.85, f.dx / 2 + r * 0.85, f.dz / 2 - r * 0.2, f.dz / 2 + r * 0.2, f.dy)
    else:
        r = f.dx / 2
        wall = chord(f.x, r, r) - chord(f.x, r, r * 0.62)
        it.add("goods", "rubber", 100 * 0.25 * wall * box(f, 0, f.dx, 0.01, f.dz - 0.01))
        it.add("goods", "rubber", 100 * 1.0 * chord(f.x, r, r * 0.62) * (box(f, 0, f.dx, 0.0, 0.02)
                                                                         + box(f, 0, f.dx, f.dz - 0.02, f.dz)))
        it.add("goods", "steel", 100 * 0.01 * wall * box(f, 0, f.dx, 0.01, f.dz - 0.01))
        it.hollow = (r * 0.4, r * 1.6, 0.02, f.dz - 0.02, f.dy * 0.6)
    return it


def pipes(f: Frame, rng: np.random.Generator) -> Item:
    """A bundle of steel pipes or profiles lying along the train, strapped: hexagonally packed tubes (each row
    of the bundle seen as the chord profile of its tube walls) or stacked angles and channels."""
    it = Item("pipe_bundle", f)
    if rng.random() < 0.6:
        r = rng.uniform(0.03, 0.08)
        wall = rng.uniform(0.003, 0.006)
        n_y = max(1, int(f.dy / (2 * r)))
        z = r
        while z + r <= f.dz:                     # rows of the hexagonal bundle, n_y tubes each along the beam
            it.add("goods", "steel", n_y * 100 * tube_chord(f.z, z, r, wall) * box(f, 0, f.dx, 0, f.dz))
            z += r * np.sqrt(3.0)
    else:
        t, h = rng.uniform(0.004, 0.008), rng.uniform(0.05, 0.1)
        z = 0.0
        while z + h <= f.dz:
            it.add("goods", "steel", f.dy * 100 * box(f, 0, f.dx, z, z + t) * 0.9)   # flanges lying flat
            it.add("goods", "steel", f.dy * 100 * 0.08 * box(f, 0, f.dx, z, z + h))  # webs standing
            z += h + rng.uniform(0.0, 0.01)
    for xs in np.linspace(0.3, f.dx - 0.3, max(2, int(f.dx / 1.2))):                 # strapping
        it.add("pack", "steel", f.dy * 100 * 0.01 * box(f, xs - 0.015, xs + 0.015, 0, f.dz))
    return it


def bag(f: Frame, rng: np.random.Generator) -> Item:
    """A 25 kg sack of granules or powder: a pillow whose path falls off towards its seams."""
    it = Item("bag", f)
    pillow = ellipsoid(f, f.dx / 2, f.dz / 2, f.dx * 0.56, f.dz * 0.62)
    it.add("goods", "polyethylene", f.dy * 100 * 0.6 * np.minimum(pillow * 1.3, 1.0))
    it.add("pack", "polyethylene", 0.05 * box(f, 0, f.dx, 0, f.dz))
    return it


def big_bag(f: Frame, rng: np.random.Generator) -> Item:
    """A one-tonne bulk bag (FIBC) of granules: a bulging cube, its top slumped."""
    it = Item("big_bag", f)
    bulge = 0.75 + 0.25 * ellipsoid(f, f.dx / 2, f.dz * 0.45, f.dx * 0.55, f.dz * 0.6)
    slump = np.clip((f.dz - f.z) / 0.15, 0.3, 1.0)
    it.add("goods", "polyethylene", f.dy * 100 * 0.6 * bulge * slump * box(f, 0.02, f.dx - 0.02, 0, f.dz))
    return it


def flatpack(f: Frame, rng: np.random.Generator) -> Item:
    """A furniture flat-pack: boards lying flat (particle board), a bag of steel fittings, card and foam."""
    it = Item("flatpack", f)
    z = 0.01
    while z < f.dz - 0.03:
        t = rng.uniform(0.016, 0.025)
        x0, x1 = rng.uniform(0.0, 0.05), f.dx - rng.uniform(0.0, 0.05)
        it.add("goods", "wood", f.dy * 100 * rng.uniform(0.8, 1.0) * box(f, x0 + 0.01, x1 - 0.01, z, z + t))
        z += t + rng.uniform(0.0, 0.02)
    fx = rng.uniform(0.1, f.dx - 0.2)
    it.add("goods", "steel", 3.0 * box(f, fx, fx + 0.12, 0.02, 0.06))
    carton(it)
    return it


def tins(f: Frame, rng: np.random.Generator) -> Item:
    """A carton of food: tins in layers (tinplate shells round food, seen side-on), or juice packs, or pasta."""
    it = Item("carton_food", f)
    kind = rng.choice(3, p=[0.45, 0.35, 0.2])
    d = f.dy * 100
    if kind == 0:
        r = rng.uniform(0.035, 0.05)
        h = rng.uniform(0.08, 0.12)
        n_y = max(1, int(f.dy / (2 * r)))
        col = np.zeros((1, f.shape[1]), np.float32)
        shell = np.zeros((1, f.shape[1]), np.float32)
        for xc in np.arange(r, f.dx - r + 1e-6, 2 * r):
            col += chord(f.x, xc, r - 0.0003)
            shell += tube_chord(f.x, xc, r, 0.0003)
        level = rng.uniform(0.85, 0.95)
        for z0 in np.arange(0.0, f.dz - h + 1e-6, h + 0.003):
            full = box(f, 0, f.dx, z0 + 0.002, z0 + 0.002 + (h - 0.004) * level)
            it.add("goods", "food", n_y * 100 * col * full)
            it.add("goods", "steel", n_y * 100 * shell * box(f, 0, f.dx, z0, z0 + h))
            ends = box(f, 0, f.dx, z0, z0 + 0.004) + box(f, 0, f.dx, z0 + h - 0.004, z0 + h)
            it.add("goods", "steel", n_y * 2 * r * 100 * 0.006 * ends)       # lids seen edge-on
    elif kind == 1:
        hp = rng.uniform(0.17, 0.25)
        for z0 in np.arange(0.0, f.dz - hp + 1e-6, hp + 0.004):
            it.add("goods", "water", d * 0.88 * box(f, 0.005, f.dx - 0.005, z0, z0 + hp * 0.92))
            it.add("goods", "cellulose", d * 0.01 * box(f, 0, f.dx, z0, z0 + hp))
    else:
        it.add("goods", "food", d * 0.35 * box(f, 0.01, f.dx - 0.01, 0.01, f.dz - 0.02))
    carton(it)
    return it


def reel(f: Frame, rng: np.random.Generator, standing: bool | None = None) -> Item:
    """A paper reel: standing on its end (axis vertical: chord profile in x) or lying with its axis along the
    beam (a disc), with its card core; the wrapper's edges show."""
    it = Item("paper_reel", f)
    if standing is None:
        standing = f.dy > 0.5 * f.dx
    dens = rng.uniform(0.55, 0.75)        # paper 0.8-0.9 g/cm³ wound with air: relative to cellulose 1.5 below
    if standing:
        r = f.dx / 2
        prof = chord(f.x, r, r) - chord(f.x, r, 0.05)
        it.add("goods", "cellulose", 100 * prof * dens * 0.6 * box(f, 0, f.dx, 0, f.dz))
        it.add("goods", "cellulose", 100 * chord(f.x, r, 0.05) * 0.3 * box(f, 0, f.dx, 0, f.dz))
        it.hollow = (r - 0.04, r + 0.04, 0.05, f.dz - 0.05, 0.08)
    else:
        r = min(f.dx, f.dz) / 2
        body = disc(f, f.dx / 2, f.dz / 2, r, r) - disc(f, f.dx / 2, f.dz / 2, 0.05, 0.05)
        it.add("goods", "cellulose", f.dy * 100 * dens * 0.6 * body)
        it.hollow = (f.dx / 2 - 0.04, f.dx / 2 + 0.04, f.dz / 2 - 0.04, f.dz / 2 + 0.04, f.dy)
    return it


def drum(f: Frame, rng: np.random.Generator) -> Item:
    """A 200-litre steel drum standing: chord profile across x, the liquid to its level, hoops and chimes."""
    it = Item("drum", f)
    r = f.dx / 2
    level = rng.uniform(0.85, 0.95) * (f.dz - 0.04)
    liquid = ["water", "soap", "oil"][int(rng.integers(3))]
    it.add("goods", liquid, 100 * chord(f.x, r, r - 0.0012) * box(f, 0, f.dx, 0.02, 0.02 + level))
    shell = tube_chord(f.x, r, r, 0.0012) * 100
    it.add("pack", "steel", shell * box(f, 0, f.dx, 0, f.dz))
    for zh in (0.0, f.dz / 3, 2 * f.dz / 3, f.dz - 0.012):
        it.add("pack", "steel", chord(f.x, r, r) * 100 * 0.03 * box(f, 0, f.dx, zh, zh + 0.012))
    return it


def ibc(f: Frame, rng: np.random.Generator) -> Item:
    """A 1000-litre IBC: an HDPE bottle of liquid in a steel grid cage on a pallet."""
    it = Item("ibc", f)
    d = f.dy * 100
    base = 0.15
    level = base + rng.uniform(0.8, 0.95) * (f.dz - base - 0.05)
    liquid = ["water", "soap"][int(rng.integers(2))]
    it.add("goods", liquid, d * 0.96 * box(f, 0.03, f.dx - 0.03, base + 0.01, level))
    it.add("pack", "polyethylene", 2 * 0.2 * box(f, 0.02, f.dx - 0.02, base, f.dz - 0.05)
           + d * 0.2 * (box(f, 0.02, 0.04, base, f.dz - 0.05) + box(f, f.dx - 0.04, f.dx - 0.02, base, f.dz - 0.05)))
    for xs in np.linspace(0.02, f.dx - 0.02, 7):                                         # cage bars (two sides)
        it.add("pack", "steel", 2 * 1.5 * box(f, xs - 0.01, xs + 0.01, base, f.dz))
    for zs in np.linspace(base, f.dz - 0.01, 5):
        it.add("pack", "steel", 2 * 1.5 * box(f, 0, f.dx, zs - 0.01, zs + 0.01) + d * 0.015
               * box(f, 0, f.dx, zs - 0.01, zs + 0.01))
    it.add("pack", "steel", d * 0.06 * box(f, 0, f.dx, 0, base))                          # steel pallet
    return it


#: kind → builder.
BUILDERS = {"carton_garments": garments, "bale": bale, "carton_shoes": shoes, "carton_electronics": electronics,
            "machine": machine, "crate_parts": parts, "tyre": tyre, "pipe_bundle": pipes, "bag": bag,
            "big_bag": big_bag, "flatpack": flatpack, "carton_food": tins, "paper_reel": reel, "drum": drum,
            "ibc": ibc, "tyre_lying": lambda f, rng: tyre(f, rng, standing=False),
            "paper_reel_lying": lambda f, rng: reel(f, rng, standing=False)}


def build(kind: str, f: Frame, rng: np.random.Generator) -> Item:
    """One object of ``kind`` over frame ``f``."""
    if kind not in BUILDERS:
        raise ValueError(f"unknown object kind {kind!r}; known: {sorted(BUILDERS)}")
    return BUILDERS[kind](f, rng)
