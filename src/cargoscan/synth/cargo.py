"""Cargo categories of China → Kazakhstan/Europe rail freight and how each one is packed and drawn.

A category names its HS codes with Russian (some Chinese) goods descriptions, its packaging, the materials of
the goods, the stowed density (kg per m³ of package) and the fill ratio. :func:`load_unit` draws the goods and
their packaging into two layers cropped to the unit (so concealment can cut into the goods before they are
merged), counts packages, and weighs the goods from their path maps: the truth is what the image shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from cargoscan.synth.contents import contents_field
from cargoscan.synth.scene import Scene, _density, ellipse_template, heterogeneity, ring_template
from cargoscan.synth.wagons import Unit

#: Materials whose parts inside goods get the metal heterogeneity (``Category.metal_grain``).
METALS = frozenset({"steel", "aluminium", "copper", "brass", "lead"})


@dataclass(frozen=True)
class Category:
    """A cargo category: goods, packaging and how densely it is stowed."""

    name: str
    goods: tuple[tuple[str, str], ...]              # (HS code, description as declared)
    packaging: str                                  # cartons | crates | bags | coils | drums | tyres | reels | bulk | liquid
    materials: tuple[tuple[str, float], ...]        # goods materials and their mass shares
    density: tuple[float, float]                    # kg/m³ of the stowed packages
    fill: tuple[float, float]                       # fraction of the unit's volume that is loaded (before the
                                                    # payload cap of :data:`PAYLOAD_KG`)
    package: tuple[float, float, float] = (0.5, 0.4, 0.45)   # package size: along, height, across (m)
    wagons: tuple[str, ...] = ("flat", "covered")
    blobs: tuple[str, ...] = ()                     # materials drawn as dense parts inside packages
    grain: tuple[float, float] = (0.3, 0.005)       # heterogeneity (see :func:`heterogeneity`): relative σ of the
                                                    # path along the beam, and its correlation length (m)
    metal_grain: float = 0.7                        # the same σ for the metal parts among the goods (motors,
                                                    # castings, fasteners, wiring): clutter, far less uniform


CATEGORIES: dict[str, Category] = {c.name: c for c in (
    Category("garments", (("6203", "Костюмы мужские из текстиля"), ("6204", "Платья женские трикотажные"),
                          ("6110", "Свитеры, джемперы 毛衣"), ("6109", "Футболки хлопчатобумажные")),
             "cartons", (("textile", 1.0),), (120, 260), (0.75, 0.98), (0.6, 0.4, 0.4), grain=(0.15, 0.005)),
    Category("footwear", (("6402", "Обувь с подошвой из резины 运动鞋"), ("6403", "Обувь кожаная")),
             "cartons", (("rubber", 0.5), ("leather", 0.3), ("cellulose", 0.2)), (180, 320), (0.75, 0.98),
             (0.55, 0.35, 0.4), grain=(0.25, 0.006)),
    Category("electronics", (("8528", "Мониторы и телевизоры"), ("8517", "Телефонные аппараты 手机"),
                             ("8471", "Вычислительные машины")),
             "cartons", (("plastic_abs", 0.55), ("glass", 0.15), ("copper", 0.1), ("steel", 0.2)), (150, 350),
             (0.7, 0.97), (0.6, 0.5, 0.5), blobs=("steel", "copper"), grain=(0.25, 0.005)),
    Category("machinery", (("8429", "Машины землеройные, узлы"), ("8474", "Оборудование для дробления"),
                           ("8413", "Насосы центробежные")),
             "crates", (("steel", 0.85), ("aluminium", 0.1), ("rubber", 0.05)), (350, 900), (0.55, 0.9),
             (1.6, 1.4, 1.1), blobs=("steel",), grain=(0.25, 0.008)),
    Category("auto_parts", (("8708", "Части и принадлежности автомобилей 汽车配件"),
                            ("8708", "Тормозные колодки, диски")),
             "crates", (("steel", 0.7), ("aluminium", 0.15), ("rubber", 0.15)), (400, 800), (0.65, 0.95),
             (1.2, 0.9, 1.0), blobs=("steel",), grain=(0.25, 0.006)),
    Category("tyres", (("4011", "Шины пневматические резиновые новые 轮胎"),),
             "tyres", (("rubber", 0.85), ("steel", 0.15)), (250, 450), (0.8, 0.99), (0.7, 0.7, 0.22), grain=(0.15, 0.006)),
    Category("steel_products", (("7208", "Прокат плоский горячекатаный в рулонах"),
                                ("7306", "Трубы стальные сварные"), ("7318", "Крепёж стальной")),
             "coils", (("steel", 1.0),), (2000, 5000), (0.3, 0.7), (1.2, 1.2, 1.2),
             wagons=("flat", "gondola"), grain=(0.05, 0.005), metal_grain=0.05),
    Category("plastics", (("3901", "Полиэтилен в первичных формах"), ("3904", "Поливинилхлорид ПВХ")),
             "bags", (("polyethylene", 1.0),), (500, 650), (0.75, 0.98), (0.6, 0.15, 0.45), grain=(0.15, 0.004)),
    Category("furniture", (("9403", "Мебель деревянная в разобранном виде 家具"), ("9401", "Стулья, кресла")),
             "cartons", (("wood", 0.8), ("steel", 0.1), ("textile", 0.1)), (120, 300), (0.75, 0.98),
             (1.0, 0.5, 0.6), blobs=("steel",), grain=(0.2, 0.006)),
    Category("food", (("1902", "Макаронные изделия"), ("2009", "Соки фруктовые"), ("2103", "Соусы, приправы")),
             "cartons", (("food", 0.8), ("water", 0.2)), (400, 700), (0.7, 0.97), (0.4, 0.3, 0.3), grain=(0.2, 0.005)),
    Category("paper", (("4802", "Бумага офсетная в рулонах"), ("4819", "Картонная тара")),
             "reels", (("cellulose", 1.0),), (500, 800), (0.7, 0.97), (1.0, 1.0, 1.1), grain=(0.05, 0.005)),
    Category("chemicals", (("2815", "Гидроксид натрия"), ("2905", "Спирты ациклические"),
                           ("3824", "Реагенты химические")),
             "drums", (("water", 0.6), ("soap", 0.4)), (600, 900), (0.7, 0.97), (0.585, 0.88, 0.585), grain=(0.0, 0.005)),
    Category("bulk_minerals", (("2505", "Песок природный"), ("3102", "Удобрения азотные"),
                               ("2701", "Уголь каменный")),
             "bulk", (("sand", 0.5), ("fertilizer", 0.3), ("coal", 0.2)), (900, 1500), (0.5, 0.9),
             wagons=("gondola",), grain=(0.2, 0.004)),
    Category("liquids", (("2710", "Масла нефтяные"), ("2905", "Метанол")),
             "liquid", (("oil", 1.0),), (800, 900), (0.75, 0.95), wagons=("tank",), grain=(0.0, 0.005)),
)}


#: Maximum payload (kg) of a load unit: ISO 668 (20 ft 24 t gross less a 2.3 t tare ≈ 21.7 t; 40 ft 30.5 t less
#: 3.8 t ≈ 26.7 t) and 1520 mm-gauge wagons (covered 11-217: 68 t; gondola 12-132: 69.5 t). Dense goods fill a
#: unit up to its payload by mass, light goods up to its volume.
PAYLOAD_KG = {"container20": 21_700.0, "container40": 26_700.0, "covered_body": 68_000.0,
              "gondola_body": 69_500.0, "tank_barrel": 66_000.0}


def payload_fill(unit: Unit, category: str, fill: float, density: float | None = None) -> float:
    """``fill`` capped so that the goods, at ``density`` kg/m³ (default: the category's mid density), stay within
    the unit's payload."""
    cat = CATEGORIES[category]
    payload = PAYLOAD_KG.get(unit.kind)
    if payload is None or cat.packaging == "liquid":
        return fill
    volume = (unit.x1 - unit.x0) * (unit.z1 - unit.z0) * unit.width_m
    density = 0.5 * sum(cat.density) if density is None else density
    return float(min(fill, payload / (volume * density)))


#: Interior volume (m³) of a 40 ft container (ISO 668: 12.03 × 2.352 × 2.39 m).
CONTAINER40_M3 = 67.6


def weighs_out(category: str) -> bool:
    """Whether a category's goods, at their mid stowed density, reach a 40 ft container's payload before they
    fill it (> 395 kg/m³). The trade ships such goods in 20 ft containers, whose payload fills at about 650 kg/m³;
    light, voluminous goods go in 40 ft ones (:func:`cargoscan.synth.manifest` draws by this)."""
    return 0.5 * sum(CATEGORIES[category].density) > PAYLOAD_KG["container40"] / CONTAINER40_M3


DENSE_QUANTILE = 0.7


def stowed_density(cat: Category, rng: np.random.Generator, dense: bool = False) -> float:
    """A load's stowed density (kg/m³ of package) from the category's range; a ``dense`` load (packed to its
    payload: shippers pay per container) from the top :data:`DENSE_QUANTILE` of it."""
    lo, hi = cat.density
    return float(rng.uniform(lo + (DENSE_QUANTILE * (hi - lo) if dense else 0.0), hi))


def list_categories(wagon: str | None = None) -> list[str]:
    """Category names (optionally those a wagon kind carries), in a fixed order."""
    return [n for n, c in CATEGORIES.items() if wagon is None or wagon in c.wagons]


@dataclass(frozen=True)
class Hollow:
    """A place inside one object of the load where contraband fits, as smugglers use them: a tyre's casing, a
    coil's eye, the body of a paper reel, one drum. A box in the image plane, ``depth_m`` along the beam (the
    one object's own depth); ``solid``: goods fill it (they are cut out to make room), else it is air inside the
    object."""

    x0: float
    x1: float
    z0: float
    z1: float
    depth_m: float
    solid: bool


@dataclass
class Load:
    """A unit's cargo, drawn but not yet merged: goods and packaging layers cropped to the unit."""

    unit: Unit
    category: str | None
    goods: Scene
    packing: Scene
    packages: int = 0
    top: np.ndarray = field(default_factory=lambda: np.zeros(0))   # load height (m) per layer column
    goods_material: str = "textile"
    density: float = 0.0                                            # stowed density drawn (kg/m³ of package)
    hollows: list[Hollow] = field(default_factory=list)             # hiding places inside its objects

    def goods_mass(self) -> float:
        return sum(self.goods.mass_kg(m) for m in self.goods.paths)


def _layer(s: Scene, unit: Unit) -> Scene:
    c0 = int(np.floor((unit.x0 - s.x_offset_m) / s.col_pitch_m))
    c1 = int(np.ceil((unit.x1 - s.x_offset_m) / s.col_pitch_m))
    c0, c1 = max(c0, 0), min(c1, s.cols)
    return Scene(s.rows, c1 - c0, s.row_pitch_m, s.col_pitch_m, s.z_bottom_m, x_offset_m=s.x_offset_m
                 + c0 * s.col_pitch_m)


def _texture(rng: np.random.Generator, shape: tuple[int, int], cell: int, amp: float) -> np.ndarray:
    """Smooth multiplicative texture 1 ± amp at a scale of ``cell`` pixels."""
    coarse = rng.uniform(1 - amp, 1 + amp, (shape[0] // cell + 2, shape[1] // cell + 2)).astype(np.float32)
    return cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)


def _solid(cat: Category, density: float) -> float:
    """Fraction of the package volume that is goods at ``density`` kg/m³, averaged over the goods materials."""
    rho = density / 1000.0
    mean_density = sum(share * _density(m) for m, share in cat.materials)
    return min(rho / mean_density, 0.95)


#: Package walls: (material, thickness m, solid-equivalent path cm per face across the beam, solid share of the
#: wall's thickness). A double-wall carton board is ~7 mm of fluted paper weighing ~1 kg/m² (0.067 cm of solid
#: cellulose, 9.5 % of its thickness); a crate's sides are 2 cm boards with gaps between them.
WALLS = {"cartons": ("cellulose", 0.007, 0.067, 0.095), "crates": ("wood", 0.02, 2.0, 0.6)}
#: Package rows along the beam drawn apart. The n_y packages side by side across a unit never stand exactly in
#: line (JITTER_M): their edges, seams and dense parts lie a few centimetres apart, so a grid of stacks is seen
#: blurred, as on real scans, not as one sharp grid. Rows beyond these share their places.
ROWS = 4
JITTER_M = 0.04
#: Where the items are drawn (contents_field), the fine clutter is only what they leave out: this share of the
#: category's grain.
ITEM_GRAIN = 0.2


def _row_fill(rng: np.random.Generator, rows: int, drawn: int) -> float:
    """A drawn package row's fill relative to the mean. When ``drawn`` < ``rows`` one drawn row stands for
    several packages side by side, whose fills average out: its spread is narrower."""
    return float(rng.uniform(0.75, 1.2) if rows <= drawn else rng.uniform(0.9, 1.08))


def _package(g: Scene, p: Scene, cat: Category, box: tuple[float, float, float, float], path: float, rows: int,
             dy: float, rng: np.random.Generator) -> None:
    """One stack level: ``rows`` package rows along the beam, ``path`` cm of goods in all, each row offset.

    Goods fill each package less a 5 mm margin; dense parts (motors, castings, frames) are 1-3 boxes per
    package; the walls' faces across the beam add their thickness to every ray, their faces along the beam are
    seen edge-on (a ray that skims one crosses ``dy`` of it).
    """
    x, dx, z, dz = box
    material, t, across_cm, solid = WALLS[cat.packaging]
    share = dict(cat.materials)
    n = max(1, min(rows, ROWS))
    for _ in range(n):
        m = _row_fill(rng, rows, n)
        jx, jz = rng.uniform(-JITTER_M, JITTER_M, 2) * np.array([1.0, 0.3])
        x0, z0 = x + jx, z + max(jz, 0.0)
        for mat, sh in cat.materials:
            if mat not in cat.blobs:
                g.box(mat, x0 + 0.005, x0 + dx - 0.005, z0 + 0.005, z0 + dz - 0.005, path / n * sh * m)
        for mat in cat.blobs:
            for _ in range(int(rng.integers(1, 4))):
                bx, bz = rng.uniform(0.2, 0.45) * dx, rng.uniform(0.2, 0.45) * dz
                cx, cz = x0 + rng.uniform(bx, dx - bx), z0 + rng.uniform(bz, dz - bz)
                g.box(mat, cx - bx, cx + bx, cz - bz, cz + bz,
                      path / n * share[mat] * m * (dx * dz) / (4 * bx * bz) / 2.5)
        skim = dy * 100 * solid * rows / n
        p.box(material, x0, x0 + dx, z0, z0 + dz, rows / n * 2 * across_cm)
        for xe in (x0, x0 + dx - t):
            p.box(material, xe, xe + t, z0, z0 + dz, skim)
        p.box(material, x0, x0 + dx, z0 + dz - t, z0 + dz, skim)


def _sacks(g: Scene, cat: Category, box: tuple[float, float, float, float], path: float, rows: int,
           rng: np.random.Generator) -> None:
    """One layer of sacks on a pallet: ``rows`` of them along the beam, each a rounded pillow of its own fill,
    offset like packages (:data:`JITTER_M`). A pillow's chord profile holds 1/1.3 of its box's volume."""
    x, dx, z, dz = box
    n = max(1, min(rows, ROWS))
    t = ellipse_template(dz / 2 / g.row_pitch_m, dx / 2 / g.col_pitch_m, "sphere")
    for _ in range(n):
        m = _row_fill(rng, rows, n)
        jx, jz = rng.uniform(-JITTER_M, JITTER_M), rng.uniform(0.0, 0.3 * JITTER_M)
        for mat, share in cat.materials:
            g.template(mat, t, x + dx / 2 + jx, z + dz / 2 + jz, path / n * share * m * 1.3)


def _packages(ld: Load, cat: Category, rng: np.random.Generator, fill: float) -> None:
    """Cartons, crates and bags in stacks (on pallets for cartons and bags)."""
    u, g, p = ld.unit, ld.goods, ld.packing
    dx, dz, dy = (v * rng.uniform(0.85, 1.15) for v in cat.package)
    n_y = max(1, int(u.width_m / dy))
    pallet = cat.packaging in ("cartons", "bags") and rng.random() < 0.7
    height = u.z1 - u.z0 - 0.05
    solid = _solid(cat, ld.density)
    across = n_y * dy * 100.0            # cm of packages along the beam
    x, xs, tops = u.x0 + rng.uniform(0.0, 0.1), [], []
    x_end = u.x0 + (u.x1 - u.x0) * min(1.0, fill * rng.uniform(1.0, 1.3))
    level = min(1.0, fill / ((x_end - u.x0) / (u.x1 - u.x0)))
    while x + dx <= x_end:
        z = u.z0
        if pallet:
            p.box("wood", x, x + dx, z, z + 0.144, 2 * n_y * 2.2)                   # pallet blocks/boards
            p.box("wood", x, x + dx, z + 0.12, z + 0.144, n_y * dy * 100 * 0.8)
            z += 0.144
        n_z = max(1, int(height * level * rng.uniform(0.85, 1.1) / dz))
        n_z = min(n_z, int((u.z1 - z) / dz))
        for _ in range(max(n_z, 0)):
            if cat.packaging == "bags":
                _sacks(g, cat, (x, dx, z, dz), across * solid, n_y, rng)
            else:
                _package(g, p, cat, (x, dx, z, dz), across * solid, n_y, dy, rng)
            ld.packages += n_y
            z += dz
        xs.append((x, x + dx))
        tops.append(z)
        x += dx + rng.uniform(0.0, 0.02)      # stacks pushed together


def _coils(ld: Load, cat: Category, rng: np.random.Generator, fill: float) -> None:
    """Steel coils on wooden cradles (eye across the beam) or bundles of profiles and pipes."""
    u, g, p = ld.unit, ld.goods, ld.packing
    x = u.x0 + rng.uniform(0.2, 0.8)
    span = (u.x1 - u.x0) * fill
    while x < u.x0 + span:
        if rng.random() < 0.65:
            r = rng.uniform(0.45, 0.8)
            width = rng.uniform(0.9, 1.5) * 100.0
            inner = rng.uniform(0.3, 0.5)
            t = ring_template(r / g.row_pitch_m, r / g.col_pitch_m, inner)
            g.template("steel", t, x + r, u.z0 + 0.12 + r, width)
            p.box("wood", x + 0.1, x + 2 * r - 0.1, u.z0, u.z0 + 0.15, 2 * 30.0)
            eye = 0.7 * inner * r                              # a square inside the eye (radius inner·r)
            ld.hollows.append(Hollow(x + r - eye, x + r + eye, u.z0 + 0.12 + r - eye, u.z0 + 0.12 + r + eye,
                                     width / 100.0, solid=False))
            x += 2 * r + rng.uniform(0.3, 1.2)
        else:
            length, h = rng.uniform(1.5, 3.5), rng.uniform(0.3, 0.8)
            frac = rng.uniform(0.08, 0.3)
            z = u.z0 + 0.1
            stripes = 0.7 + 0.6 * (np.arange(int(h / g.row_pitch_m) + 2) % 7 < 2)
            r0, wr = g.rows_cov(z, z + h)
            g.box("steel", x, x + length, z, z + h, (u.width_m * 100 * frac * stripes[:len(wr)])[:, None])
            p.box("wood", x + 0.2, x + 0.3, u.z0, z, 2 * 10.0)
            x += length + rng.uniform(0.3, 1.0)
        ld.packages += 1


def _drums(ld: Load, cat: Category, rng: np.random.Generator, fill: float) -> None:
    """200-litre steel drums, one or two tiers, 3-4 across the beam."""
    u, g, p = ld.unit, ld.goods, ld.packing
    r, h = 0.29, 0.88
    n_y = int(u.width_m / (2 * r))
    tiers = 2 if (u.z1 - u.z0) > 2.2 and rng.random() < 0.7 else 1
    x = u.x0 + 0.05
    while x + 2 * r <= u.x0 + (u.x1 - u.x0) * fill:
        c0, wc = g.cols_cov(x, x + 2 * r)
        xc = (np.arange(c0, c0 + len(wc)) + 0.5) * g.col_pitch_m + g.x_offset_m - (x + r)
        chord = (2 * np.sqrt(np.clip(r * r - xc ** 2, 0, None)) * 100.0)[None, :]   # cm through one drum
        shell = np.minimum(2 * 0.12 * r / np.sqrt(np.clip(r * r - xc ** 2, 1e-4, None)), 20.0)[None, :]
        for tier in range(tiers):
            z = u.z0 + 0.14 + tier * (h + 0.16)
            level = rng.uniform(0.85, 0.95)
            for mat, share in cat.materials:
                g.box(mat, x, x + 2 * r, z + 0.02, z + 0.02 + (h - 0.04) * level, n_y * chord * share)
            p.box("steel", x, x + 2 * r, z, z + h, n_y * shell)
            for zh in (z + h / 3, z + 2 * h / 3, z, z + h - 0.01):                     # rolling hoops, chimes
                p.box("steel", x, x + 2 * r, zh, zh + 0.01, n_y * chord * 0.03)
            p.box("wood", x, x + 2 * r, z - 0.14, z, 2 * n_y * 2.0)
            ld.packages += n_y
            ld.hollows.append(Hollow(x + 0.3 * r, x + 1.7 * r, z + 0.04, z + (h - 0.04) * level, 2 * r * 0.8,
                                     solid=True))
        x += 2 * r + rng.uniform(0.0, 0.05)


def _tyres(ld: Load, cat: Category, rng: np.random.Generator, fill: float) -> None:
    """Tyres standing in rows, their axes across the beam: rings in the image."""
    u, g = ld.unit, ld.goods
    r, tread = rng.uniform(0.3, 0.55), rng.uniform(0.18, 0.3)
    n_y = int(u.width_m / tread)
    ring = ring_template(r / g.row_pitch_m, r / g.col_pitch_m, 0.62)
    belt = ring_template(r * 0.98 / g.row_pitch_m, r * 0.98 / g.col_pitch_m, 0.9)
    n_z = max(1, int((u.z1 - u.z0) * rng.uniform(0.7, 1.0) / (2 * r)))
    x = u.x0 + 0.02
    while x + 2 * r <= u.x0 + (u.x1 - u.x0) * fill:
        for k in range(n_z):
            zc = u.z0 + r + k * 2 * r
            g.template("rubber", ring, x + r, zc, n_y * 3.5)
            g.template("steel", belt, x + r, zc, n_y * 0.25)
            ld.packages += n_y
            # the casing's air between the bead (0.62 r) and the tread, below the hub: one tyre deep
            ld.hollows.append(Hollow(x + 0.7 * r, x + 1.3 * r, zc - 0.93 * r, zc - 0.66 * r, tread, solid=False))
        x += 2 * r * rng.uniform(0.8, 1.0)   # rows lean into each other


def _reels(ld: Load, cat: Category, rng: np.random.Generator, fill: float) -> None:
    """Paper reels lying with their axes across the beam, one or two tiers."""
    u, g = ld.unit, ld.goods
    r = rng.uniform(0.45, 0.6)
    # wound paper is 0.6-0.8 g/cm³ (the reel's own density; cellulose itself is 1.5)
    width = u.width_m * 100 * rng.uniform(0.8, 0.95) * rng.uniform(0.6, 0.8) / _density("cellulose")
    disc = ellipse_template(r / g.row_pitch_m, r / g.col_pitch_m)
    core = ellipse_template(0.05 / g.row_pitch_m, 0.05 / g.col_pitch_m)
    tiers = 2 if (u.z1 - u.z0) > 4 * r + 0.1 else 1
    n_reels = max(1, round(u.width_m / 1.2))   # reels ~1.2 m long side by side along the beam
    x = u.x0 + 0.02
    while x + 2 * r <= u.x0 + (u.x1 - u.x0) * fill:
        for k in range(tiers):
            zc = u.z0 + r + k * 2 * r
            g.template("cellulose", disc, x + r, zc, width)
            g.template("cellulose", core, x + r, zc, -width)
            ld.packages += 2
            # a cavity cut into one reel's body, off the core: that reel's depth along the beam
            ld.hollows.append(Hollow(x + 0.3 * r, x + 0.85 * r, zc - 0.3 * r, zc + 0.3 * r,
                                     0.9 * u.width_m / n_reels, solid=True))
        x += 2 * r + rng.uniform(0.0, 0.05)


def _bulk(ld: Load, cat: Category, rng: np.random.Generator, fill: float) -> None:
    """Loose bulk poured from a chute in a few heaps: cones at the angle of repose over a levelled base.

    Across the beam the heap is a ridge with the same repose slopes, so near the crest the beam crosses less
    than the full width: the top of the load shows a density gradient, the body below it is opaque.
    """
    u, g = ld.unit, ld.goods
    mat = [m for m, _ in cat.materials][int(rng.integers(len(cat.materials)))]
    ld.goods_material = mat
    packing = min(rng.uniform(*cat.density) / 1000 / _density(mat), 0.9)
    c0, wc = g.cols_cov(u.x0, u.x1)
    x = (np.arange(c0, c0 + len(wc)) + 0.5) * g.col_pitch_m + g.x_offset_m
    slope = np.tan(np.radians(rng.uniform(30, 40)))
    height = u.z1 - u.z0
    base = u.z0 + height * fill * rng.uniform(0.6, 0.9)
    n_heaps = int(rng.integers(2, 6))
    centres = u.x0 + (np.arange(n_heaps) + rng.uniform(0.3, 0.7, n_heaps)) * (u.x1 - u.x0) / n_heaps
    peaks = u.z0 + height * fill * rng.uniform(1.0, 1.25, n_heaps)
    cones = np.max(peaks[:, None] - np.abs(x[None, :] - centres[:, None]) * slope, axis=0)
    ends = u.z0 + np.minimum(x - u.x0, u.x1 - x) * slope + 0.3      # slopes against the end walls
    surface = np.minimum(np.maximum(base, cones), np.minimum(ends, u.z1 + 0.3))
    r0, wr = g.rows_cov(u.z0, float(surface.max()))
    z = g.z_top_m - (np.arange(r0, r0 + len(wr)) + 0.5) * g.row_pitch_m
    depth = surface[None, :] - z[:, None]                          # m below the local crest
    across = np.clip(2.0 * depth / slope, 0.0, u.width_m)          # ridge cross-section along the beam
    tex = heterogeneity(rng, depth.shape, g.row_pitch_m, g.col_pitch_m, *cat.grain)
    g.box(mat, u.x0, u.x1, u.z0, float(surface.max()), (across * tex * 100 * packing).astype(np.float32))
    ld.top = surface
    ld.packages = 1


def _liquid(ld: Load, cat: Category, rng: np.random.Generator, fill: float) -> None:
    """The liquid in a tank barrel, up to its level: inner chord × (z below the level)."""
    u, g = ld.unit, ld.goods
    r0, c0_abs, inner = u.chord  # type: ignore[attr-defined]
    level = u.z0 + (u.z1 - u.z0) * fill
    z = g.z_top_m - (np.arange(r0, r0 + inner.shape[0]) + 0.5) * g.row_pitch_m
    wet = np.clip((level - z) / g.row_pitch_m + 0.5, 0, 1)[:, None]
    c_off = int(round((g.x_offset_m) / g.col_pitch_m)) - c0_abs
    sub = inner[:, max(c_off, 0):max(c_off, 0) + g.cols] * wet * 100.0
    mat = cat.materials[0][0]
    g.path(mat)[r0:r0 + sub.shape[0], :sub.shape[1]] += sub.astype(np.float32)
    ld.packages = 1


_DRAW = {"cartons": _packages, "crates": _packages, "bags": _packages, "coils": _coils, "drums": _drums,
         "tyres": _tyres, "reels": _reels, "bulk": _bulk, "liquid": _liquid}


def load_unit(s: Scene, unit: Unit, category: str | None, fill: float, rng: np.random.Generator,
              dense: bool = False) -> Load:
    """Draw the cargo of one unit into cropped layers (not yet merged into ``s``).

    Args:
        category: a name from :data:`CATEGORIES`, or None for an empty unit.
        fill: fraction of the unit that is loaded (0 empty, 1 full), capped by the payload at the drawn density.
        dense: packed to the payload from the top of the category's density range (:func:`stowed_density`).
    """
    ld = Load(unit, category, _layer(s, unit), _layer(s, unit))
    if category is None or fill <= 0:
        return ld
    cat = CATEGORIES[category]
    ld.goods_material = cat.materials[0][0]
    ld.density = stowed_density(cat, rng, dense)
    _DRAW[cat.packaging](ld, cat, rng, payload_fill(unit, category, fill, ld.density))
    if cat.packaging not in ("liquid", "bulk"):
        # goods are never uniform. A smooth stowage texture over the whole load (how tightly each stack is
        # packed), times the geometry of the items inside the packages (contents_field: several package rows
        # deep, so their edges are soft), times a fine clutter at the scale of the items' own parts (seams,
        # fasteners, wiring). Metal parts among the goods are far less uniform than their organic bulk, which is
        # why σ(A) climbs so steeply with A on real scans of mixed cargo.
        tex = _texture(rng, (s.rows, ld.goods.cols), 24, 0.08)
        n_y = max(1, int(unit.width_m / cat.package[2]))
        items = contents_field(rng, tex.shape, (s.row_pitch_m, s.col_pitch_m), category, n_y)
        if items is not None:
            tex = tex * items
        grain = (cat.grain[0] * (ITEM_GRAIN if items is not None else 1.0), cat.grain[1])
        soft = tex * heterogeneity(rng, tex.shape, s.row_pitch_m, s.col_pitch_m, *grain)
        hard = None
        for m in sorted(ld.goods.paths):
            if m in METALS:
                if hard is None:
                    hard = tex * heterogeneity(rng, tex.shape, s.row_pitch_m, s.col_pitch_m, cat.metal_grain,
                                               cat.grain[1])
                ld.goods.paths[m] *= hard
            else:
                ld.goods.paths[m] *= soft
    return ld


def merge(s: Scene, ld: Load) -> None:
    """Add a load's layers into the scene and paint its cargo label."""
    c0 = int(round((ld.goods.x_offset_m - s.x_offset_m) / s.col_pitch_m))
    cs = slice(c0, c0 + ld.goods.cols)
    occupied = np.zeros((s.rows, ld.goods.cols), bool)
    for layer in (ld.goods, ld.packing):
        for m, path in layer.paths.items():
            np.maximum(path, 0, out=path)
            s.path(m)[:, cs] += path
            occupied |= path > 0.5
    s.label("cargo", (slice(0, s.rows), cs), occupied)
