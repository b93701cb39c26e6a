"""Things to find: hidden compartments, voids and contraband, drawn into a loaded scene.

Each concealment kind cuts into the cargo layers of a :class:`~cargoscan.synth.cargo.Load` (before it is
merged), adds its own structure and contents into the scene, and records labelled instances with their full
extent. Contraband replaces the goods it displaces along the beam, so a brick of cocaine behind a wall of
garments attenuates more than the garments beside it and reads organic in the dual-energy ratio.

What the objects are (bricks, master cases, firearm templates, sheets and their sizes) is the threat catalogue's,
:mod:`cargoscan.synth.threats`, which projection renders too: this module only places them in a scene.
"""

from __future__ import annotations

import cv2
import numpy as np

from cargoscan.synth.cargo import Load
from cargoscan.synth.scene import Scene, _density
from cargoscan.synth.threats import (BRICK, CIGARETTE_CASE, FIREARM_STACK, SEAM_PATH, create_cavity,
                                     create_compartment, create_firearm, list_firearms)
from cargoscan.synth.wagons import DECK_Z

#: Steel path (cm) above which a pixel belongs to a weapon's label: its whole drawn outline, thin edges aside.
WEAPON_MASK_CM = 0.05


def _cut(ld: Load, x0: float, x1: float, z0: float, z1: float, fraction: float) -> float:
    """Remove ``fraction`` of the goods and packaging inside a box; returns the goods mass removed (kg)."""
    removed = 0.0
    for layer, is_goods in ((ld.goods, True), (ld.packing, False)):
        r0, wr = layer.rows_cov(z0, z1)
        c0, wc = layer.cols_cov(x0, x1)
        where = (slice(r0, r0 + len(wr)), slice(c0, c0 + len(wc)))
        w = np.float32(fraction) * (wr[:, None] * wc[None, :])
        m = layer.remove(list(layer.paths), where, w)
        removed += m if is_goods else 0.0
    return removed


def _box_mask(s: Scene, x0: float, x1: float, z0: float, z1: float) -> np.ndarray:
    r0, wr = s.rows_cov(z0, z1)
    c0, wc = s.cols_cov(x0, x1)
    return s.full_mask((slice(r0, r0 + len(wr)), slice(c0, c0 + len(wc))), (wr[:, None] * wc[None, :]) >= 0.5)


def _block(s: Scene, material: str, x0: float, x1: float, z0: float, z1: float, mass_kg: float,
           seams: tuple[float, float] | None = None, wrap: str | None = None) -> np.ndarray:
    """Spread ``mass_kg`` of ``material`` uniformly over a box (with optional package seams); returns its mask.

    The path is scaled so that the mass inside the instance mask (pixels at least half covered) is exactly
    ``mass_kg``, whatever the seams and the box's position on the pixel grid; the thin slivers of the edge
    pixels under half covered carry a little more.
    """
    mask = _box_mask(s, x0, x1, z0, z1)
    if not mask.any():
        return mask
    area_cm2 = s.row_pitch_m * s.col_pitch_m * 1e4
    r0, wr = s.rows_cov(z0, z1)
    c0, wc = s.cols_cov(x0, x1)
    mod = np.ones((len(wr), len(wc)), np.float32)
    if seams is not None:   # thin gaps between bricks/cases, tape wraps on their faces
        rr = (np.arange(len(wr)) * s.row_pitch_m) % seams[1] < s.row_pitch_m
        cc = (np.arange(len(wc)) * s.col_pitch_m) % seams[0] < s.col_pitch_m
        mod[rr, :] *= SEAM_PATH
        mod[:, cc] *= SEAM_PATH
    weight = wr[:, None] * wc[None, :]
    drawn = float((weight * mod)[weight >= 0.5].sum())
    path = mass_kg * 1000.0 / (_density(material) * area_cm2 * drawn)
    s.box(material, x0, x1, z0, z1, path * mod)
    if wrap is not None:
        s.box(wrap, x0, x1, z0, z1, BRICK.wrap_cm * mod)
    return mask


def _contents(s: Scene, ld: Load, what: str, x0: float, x1: float, z0: float, z1: float, depth: float,
              spec: dict, site: str, rng: np.random.Generator, cut: bool = True) -> list[str]:
    """Put contraband ``what`` in the box (``depth`` m along the beam), displacing goods (``cut``; not where the
    box is air inside an object, or already cut); returns classes."""
    unit = ld.unit.number
    if what == "drugs":
        drug = spec.get("drug", "cocaine")
        mass = float(spec.get("mass_kg", 20.0))
        # bricks pack at ~1 kg/L: shrink the box to the volume the mass needs
        vol = BRICK.volume_m3(drug, mass)
        h = min(z1 - z0, max(0.1, np.sqrt(vol / depth) * 0.7))
        length = min(x1 - x0, max(0.1, vol / (depth * h)))
        if length * h * depth < vol:   # not enough room: fill the box, the rest goes deeper along the beam
            depth = min(ld.unit.width_m, vol / (length * h))
        xa = x0 + rng.uniform(0, max(x1 - x0 - length, 0))
        za = z0 + rng.uniform(0, max(z1 - z0 - h, 0)) * (site == "in_cargo")
        if cut:
            _cut(ld, xa, xa + length, za, za + h, min(depth / ld.unit.width_m, 1.0))
        mask = _block(s, drug, xa, xa + length, za, za + h, mass, seams=BRICK.face_m, wrap=BRICK.wrap)
        s.add_instance("drugs", mask, drug, mass, site, unit)
        return ["drugs"]
    if what == "cigarettes":
        cl, ch, cd = CIGARETTE_CASE.size_m
        n_x = max(1, int((x1 - x0) / cl))
        n_z = max(1, int((z1 - z0) / ch))
        n_y = max(1, int(depth / cd))
        n = int(min(n_x * n_z * n_y, rng.integers(*CIGARETTE_CASE.count)))
        cols = max(1, min(n_x, int(np.ceil(n / (n_z * n_y)))))
        rows = max(1, min(n_z, int(np.ceil(n / (cols * n_y)))))
        xa, za = x0, z0
        _cut(ld, xa, xa + cols * cl, za, za + rows * ch, min(n_y * cd / ld.unit.width_m, 1.0))
        mass = n * CIGARETTE_CASE.mass_kg
        mask = _block(s, "tobacco", xa, xa + cols * cl, za, za + rows * ch, mass * CIGARETTE_CASE.tobacco_share,
                      seams=(cl, ch))
        _block(s, "cellulose", xa, xa + cols * cl, za, za + rows * ch, mass * CIGARETTE_CASE.cardboard_share)
        s.add_instance("cigarettes", mask, "tobacco", mass, site, unit)
        return ["cigarettes"]
    if what == "weapons":
        return _weapons(s, ld, x0, x1, z0, z1, site, rng)
    return []


def _weapon_template(kind: str, s: Scene, angle: float) -> tuple[np.ndarray, float]:
    """A rotated steel path template (cm per piece) of a catalogue firearm at the scene's pitch; and its mass (kg).

    The template's rectangles give the shape; its paths are then scaled so that the steel drawn weighs the piece's
    stated mass (the rectangles alone drew a rifle of 12.9 kg for its 3.6, a pistol of 2.3 kg for 0.9: weapons
    3–4× denser than real ones, and labels that said otherwise).
    """
    fa = create_firearm(kind)
    px = max(s.row_pitch_m, s.col_pitch_m)
    n = int(fa.size_m / px) + 8
    t = np.zeros((n, n), np.float32)
    c = n // 2

    def rect(x0: float, z0: float, w: float, h: float, cm: float) -> None:
        t[int(c + z0 / px):int(c + (z0 + h) / px) + 1, int(c + x0 / px):int(c + (x0 + w) / px) + 1] += cm

    for part in fa.parts:
        rect(part.x0, part.z0, part.w, part.h, part.path_cm)
    m = cv2.getRotationMatrix2D((c, c), np.degrees(angle), 1.0)
    # pixels are not square: stretch the along-train axis by the pitch ratio after rotation
    t = cv2.warpAffine(t, m, (n, n), flags=cv2.INTER_LINEAR)
    fx = px / s.col_pitch_m
    fy = px / s.row_pitch_m
    t = cv2.resize(t, (max(1, int(n * fx)), max(1, int(n * fy))), interpolation=cv2.INTER_LINEAR)
    drawn_kg = float(t.sum()) * s.row_pitch_m * s.col_pitch_m * 1e4 * _density(fa.drawn) / 1000.0
    return t * np.float32(fa.mass_kg / drawn_kg), fa.mass_kg


def _weapons(s: Scene, ld: Load, x0: float, x1: float, z0: float, z1: float, site: str,
             rng: np.random.Generator) -> list[str]:
    unit = ld.unit.number
    names = list_firearms()
    fa = create_firearm(names[int(rng.choice(len(names), p=[create_firearm(k).share for k in names]))])
    count = int(rng.integers(1, fa.max_count))
    t, mass = _weapon_template(fa.name, s, rng.uniform(-fa.tilt_rad, fa.tilt_rad) if fa.tilt_rad else 0.0)
    stack = min(count, FIREARM_STACK)        # stacked along the beam; the rest beside them
    groups = int(np.ceil(count / stack))
    sizes = [stack] * (groups - 1) + [count - stack * (groups - 1)]    # exactly ``count`` pieces, as labelled
    xs = np.linspace(x0 + 0.3, max(x0 + 0.3, x1 - 0.3), groups)
    z = z0 + rng.uniform(0.3, max(0.31, min(1.2, z1 - z0 - 0.3)))
    before = s.path("steel").copy()
    for x, pieces in zip(xs, sizes):
        _cut(ld, x - 0.3, x + 0.3, z - 0.15, z + 0.15, 0.3)
        s.template("steel", t, x, z, pieces)
    mask = (s.path("steel") - before) > WEAPON_MASK_CM
    s.add_instance("weapon", mask, fa.material, mass * count, site, unit)
    return ["weapon"]


def _compartment(s: Scene, ld: Load, x0: float, x1: float, z0: float, z1: float, site: str,
                 wall: tuple[float, float, float, float], spec: dict, rng: np.random.Generator) -> list[str]:
    """A welded-in compartment: cut the goods, add its wall, label it, fill it (or leave it empty)."""
    share = create_compartment(site).width_share
    _cut(ld, x0, x1, z0, z1, 1.0)
    wx0, wx1, wz0, wz1 = wall
    s.box("steel", wx0, wx1, wz0, wz1, ld.unit.width_m * 100.0 * share)
    wall_mass = (wx1 - wx0) * (wz1 - wz0) * ld.unit.width_m * share * _density("steel") * 1000.0   # as drawn
    mask = _box_mask(s, min(x0, wx0), max(x1, wx1), min(z0, wz0), max(z1, wz1))
    s.add_instance("hidden_compartment", mask, "steel", wall_mass, site, ld.unit.number)
    classes = ["hidden_compartment"]
    what = spec.get("contents")
    if what:
        classes += _contents(s, ld, what, x0 + 0.02, x1 - 0.02, z0 + 0.02, z1 - 0.02, ld.unit.width_m * 0.8,
                             spec, site, rng)
    return classes


def _fitting_kind(ld: Load, kind: str) -> str:
    """The concealment kind that fits the unit: a bulk void needs bulk, a false front wall or roof an end wall and
    a roof (a tank's barrel has neither: its sill then), hollowed goods need goods."""
    u = ld.unit
    bulk = ld.category is not None and ld.top.size > 0
    if kind == "bulk_void" and not bulk:
        kind = "hollowed_goods"
    if kind in ("false_front_wall", "false_roof") and u.kind == "tank_barrel":
        kind = "structure_compartment"
    if kind == "hollowed_goods" and ld.category is None:
        kind = "false_floor" if u.kind != "tank_barrel" else "structure_compartment"
    return kind


def _false_front_wall(s: Scene, ld: Load, kind: str, spec: dict, rng: np.random.Generator) -> list[str]:
    """A sheet across the body near its front end (away from the door), contraband in the gap behind it."""
    u, c = ld.unit, create_compartment(kind)
    d = rng.uniform(*c.size_m)
    front = u.x0 if (u.door_x is None or u.door_x > (u.x0 + u.x1) / 2) else u.x1
    xa, xb = (front, front + d) if front == u.x0 else (front - d, front)
    xw = xb if front == u.x0 else xa - c.sheet_m
    return _compartment(s, ld, xa, xb, u.z0, u.z1, kind, (xw, xw + c.sheet_m, u.z0, u.z1), spec, rng)


def _false_sheet(s: Scene, ld: Load, kind: str, spec: dict, rng: np.random.Generator) -> list[str]:
    """A false floor (or roof): a sheet over part of the length, a flat cavity beneath (or above) it."""
    u, c = ld.unit, create_compartment(kind)
    length = u.x1 - u.x0
    h = rng.uniform(*c.size_m)
    span = rng.uniform(*c.span) * length
    xa = u.x0 + rng.uniform(0, length - span)
    za, zb = (u.z0, u.z0 + h) if kind == "false_floor" else (u.z1 - h, u.z1)
    zw = zb if kind == "false_floor" else za - c.sheet_m
    return _compartment(s, ld, xa, xa + span, za, zb, kind, (xa, xa + span, zw, zw + c.sheet_m), spec, rng)


def _sill_compartment(s: Scene, ld: Load, kind: str, spec: dict, rng: np.random.Generator) -> list[str]:
    """Two plates welded edge-on into the sill under the deck, drugs (or firearms) between them."""
    u, c = ld.unit, create_compartment(kind)
    length = u.x1 - u.x0
    span = rng.uniform(*c.size_m)
    xa = u.x0 + rng.uniform(1.0, max(1.1, length - span - 1.0))
    za, zb = DECK_Z - 0.28, DECK_Z - 0.04   # c.height_m in the sill, under the deck
    mask = _box_mask(s, xa, xa + span, za, zb)
    s.box("steel", xa, xa + c.sheet_m, za, zb, c.plate_cm)
    s.box("steel", xa + span - c.sheet_m, xa + span, za, zb, c.plate_cm)
    plates_kg = 2 * c.sheet_m * (zb - za) * c.plate_cm / 100.0 * _density("steel") * 1000.0   # the two drawn
    s.add_instance("hidden_compartment", mask, "steel", plates_kg, "structure_compartment", u.number)
    classes = ["hidden_compartment"]
    what = spec.get("contents") or "drugs"
    if what == "cigarettes":
        what = "drugs"   # a master case does not fit a sill
    held = span * c.height_m * c.across_m * c.load_kg_m3   # what the sill holds at most
    spec = {**spec, "mass_kg": min(float(spec.get("mass_kg", 20)), held)}
    if what == "drugs":
        drug = spec.get("drug", "cocaine")
        m = _block(s, drug, xa + 0.01, xa + span - 0.01, za + 0.01, zb - 0.01, spec["mass_kg"],
                   seams=BRICK.face_m, wrap=BRICK.wrap)
        s.add_instance("drugs", m, drug, spec["mass_kg"], "structure_compartment", u.number)
        classes.append("drugs")
    else:
        classes += _weapons(s, ld, xa, xa + span, za - 0.3, zb, "structure_compartment", rng)
    return classes


def _bulk_void(s: Scene, ld: Load, kind: str, spec: dict, rng: np.random.Generator) -> list[str]:
    """Bulk cargo missing from a pocket under its heap (a third of its height at most), sometimes filled."""
    u, v = ld.unit, create_cavity(kind)
    length = u.x1 - u.x0
    cx = u.x0 + rng.uniform(0.2, 0.8) * length
    top = float(np.interp(cx, np.linspace(u.x0, u.x1, ld.top.size), ld.top))
    rz = rng.uniform(v.up_m[0], min(v.up_m[1], max(0.21, (top - u.z0) / 3)))   # a third of the bulk at most
    rx = rng.uniform(*v.along_m)
    cz = u.z0 + rng.uniform(rz + 0.05, max(rz + 0.06, top - u.z0 - rz - 0.05))
    _cut(ld, cx - rx, cx + rx, cz - rz, cz + rz, rng.uniform(*v.removed))
    mask = _box_mask(s, cx - rx, cx + rx, cz - rz, cz + rz)
    s.add_instance("void", mask, "air", 0.0, "bulk_cavity", u.number)
    classes = ["void"]
    if spec.get("contents"):
        classes += _contents(s, ld, spec["contents"], cx - rx, cx + rx, cz - rz, cz + rz, 0.6, spec,
                             "bulk_cavity", rng)
    return classes


#: Share of the drugs hidden in or among a load of objects (tyres, coils, reels, drums) that go inside one of them
#: (:attr:`Load.hollows`) rather than between them. Cigarette cases and firearms do not fit a tyre's casing or a
#: coil's eye; they stay between the objects.
IN_OBJECT_SHARE = 0.7


def _in_object(s: Scene, ld: Load, what: str, site: str, spec: dict, rng: np.random.Generator) -> list[str]:
    """Contraband ``what`` inside one object of the load: a hollow drawn at random (goods cut out of a solid one,
    the object's air filled in a tyre casing or a coil's eye; a consignment bigger than one object's hollow
    fills the same hollow in the objects behind it along the beam); returns the classes drawn."""
    h = ld.hollows[int(rng.integers(len(ld.hollows)))]
    if not (h.solid and site == "hollowed_goods"):   # goods displaced by the contents alone, if any
        return _contents(s, ld, what, h.x0, h.x1, h.z0, h.z1, h.depth_m, spec, site, rng, cut=h.solid)
    # hollowed: the whole cavity is cut out of the object, a void where the contents do not fill it
    _cut(ld, h.x0, h.x1, h.z0, h.z1, min(h.depth_m / ld.unit.width_m, 1.0))
    s.add_instance("void", _box_mask(s, h.x0, h.x1, h.z0, h.z1), "air", 0.0, site, ld.unit.number)
    return ["void"] + _contents(s, ld, what, h.x0, h.x1, h.z0, h.z1, h.depth_m, spec, site, rng, cut=False)


def _hollowed_goods(s: Scene, ld: Load, kind: str, spec: dict, rng: np.random.Generator) -> list[str]:
    """Goods cut out of the lower part of the load, sometimes with contraband in their place; in a load of
    objects, mostly one object hollowed (a reel, a drum) or filled (a tyre's casing, a coil's eye)."""
    if spec.get("contents") == "drugs" and ld.hollows and rng.random() < IN_OBJECT_SHARE:
        return _in_object(s, ld, "drugs", "hollowed_goods", spec, rng)
    u, v = ld.unit, create_cavity(kind)
    length, height = u.x1 - u.x0, u.z1 - u.z0
    lx, lz = rng.uniform(*v.along_m), rng.uniform(*v.up_m)
    xa = u.x0 + rng.uniform(0, max(0.01, length * 0.6 - lx))
    za = u.z0 + rng.uniform(0.15, max(0.16, min(height * 0.6, 1.2)))
    _cut(ld, xa, xa + lx, za, za + lz, rng.uniform(*v.removed))
    mask = _box_mask(s, xa, xa + lx, za, za + lz)
    s.add_instance("void", mask, "air", 0.0, "hollowed_goods", u.number)
    classes = ["void"]
    if spec.get("contents"):
        classes += _contents(s, ld, spec["contents"], xa, xa + lx, za, za + lz, 0.5, spec, "hollowed_goods",
                             rng)
    return classes


def _in_cargo(s: Scene, ld: Load, kind: str, spec: dict, rng: np.random.Generator) -> list[str]:
    """Contraband straight in the cargo, behind cover goods."""
    u = ld.unit
    length = u.x1 - u.x0
    what = {"drugs_in_cargo": "drugs", "cigarettes_in_cargo": "cigarettes", "weapons_in_cargo": "weapons"}[kind]
    if what == "drugs" and ld.hollows and rng.random() < IN_OBJECT_SHARE:
        return _in_object(s, ld, what, "in_cargo", spec, rng)
    xa = u.x0 + rng.uniform(0.1, 0.5) * length
    return _contents(s, ld, what, xa, min(u.x1, xa + rng.uniform(1.0, 3.0)), u.z0 + 0.02,
                     min(u.z1, u.z0 + 1.8), u.width_m * rng.uniform(0.2, 0.6), spec, "in_cargo", rng)


#: Each concealment kind's placer: ``fn(scene, load, kind, spec, rng)`` → the label classes it drew.
PLACERS = {"false_front_wall": _false_front_wall, "false_floor": _false_sheet, "false_roof": _false_sheet,
           "structure_compartment": _sill_compartment, "bulk_void": _bulk_void, "hollowed_goods": _hollowed_goods,
           "drugs_in_cargo": _in_cargo, "cigarettes_in_cargo": _in_cargo, "weapons_in_cargo": _in_cargo}


def conceal(s: Scene, ld: Load, spec: dict, rng: np.random.Generator) -> list[str]:
    """Draw one concealment into a loaded unit; returns the label classes it produced.

    Args:
        spec: ``{"kind": ..., "contents": "drugs"|"cigarettes"|"weapons"|None, "drug": ..., "mass_kg": ...}``;
            kinds that do not fit the unit fall back to one that does (:func:`_fitting_kind`).
    """
    kind = _fitting_kind(ld, spec["kind"])
    return PLACERS[kind](s, ld, kind, spec, rng)
