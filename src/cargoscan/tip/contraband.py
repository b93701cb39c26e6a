"""Contraband patches: drug bricks, cigarette cases, firearms, ammunition and grenades, standalone at a pitch.

Each object is the threat catalogue's (:mod:`cargoscan.synth.threats`: materials, template, size and mass law);
this module only rasterises it into a :class:`~cargoscan.tip.patch.ThreatPatch` and chooses how it lies in the
cargo. Objects that may lie at any angle are drawn on a square-pixel canvas and finished by
:func:`~cargoscan.tip.patch.finish` (their masks are exactly ``path > 0``); contraband set into the cargo
displaces the goods it stands in for (``removal``), as the synthesiser cuts them. The catalogue's firearm
templates are steel-equivalent shapes heavier than a piece's stated mass: they are scaled to that mass, as the
synthesiser scales them.
"""

from __future__ import annotations

import numpy as np

from cargoscan.physics.materials import get_material
from cargoscan.synth.threats import (BRICK, CIGARETTE_CASE, GRENADE, SEAM_PATH, Firearm, create_firearm,
                                     draw_contents, draw_drug, draw_drug_mass)
from cargoscan.tip.patch import Canvas, PatchInstance, ThreatPatch, displaced, finish, iso_pitch, paths_mass_kg

#: Firearms stacked along the beam, at most. The synthesiser stacks up to 6 (``FIREARM_STACK``); beyond 4
#: pistols the projection's multiplicative PSF model leaves the 2 % agreement with direct rendering
#: (tests/tip/test_projection_agreement.py), so deeper stacks stay the archive's own.
MAX_STACK = 4


def _density(material: str) -> float:
    return float(get_material(material).density_g_cm3)


def brick_block(
    c: Canvas, material: str, mass_kg: float, y_cm: float, x_cm: float, h_cm: float, w_cm: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """``mass_kg`` of the catalogue's bricks over a box of the canvas, each brick at its own depth, wrapped; the
    drug's paths are scaled to the exact mass. Returns the block's mask."""
    before = c.paths.get(material, np.zeros((c.h, c.w), np.float32)).copy()
    mask = np.zeros((c.h, c.w), bool)
    face_w, face_h = BRICK.face_m[0] * 100.0, BRICK.face_m[1] * 100.0
    rows, cols = max(1, int(round(h_cm / face_h))), max(1, int(round(w_cm / face_w)))
    bh, bw = h_cm / rows, w_cm / cols
    for i in range(rows):
        for j in range(cols):
            mask |= c.box(material, y_cm + i * bh, x_cm + j * bw, bh, bw, rng.uniform(0.85, 1.0))
    added = c.paths[material] - before
    area = c.pitch_cm[0] * c.pitch_cm[1]
    scale = mass_kg * 1000.0 / (float(added.sum()) * area * _density(material))
    c.paths[material] = before + added * np.float32(scale)
    c.paths.setdefault(BRICK.wrap, np.zeros((c.h, c.w), np.float32))[mask] += np.float32(BRICK.wrap_cm)
    return mask


def _brick_face(mass_kg: float, material: str, rng: np.random.Generator,
                max_depth_cm: float = 120.0) -> tuple[float, float, float]:
    """(height, width, depth) in cm of a block of ``mass_kg`` of the catalogue's bricks."""
    vol = BRICK.volume_m3(material, mass_kg) * 1e6
    side = vol ** (1.0 / 3.0)
    depth = float(np.clip(side * rng.uniform(0.7, 2.5), 5.0, max_depth_cm))
    face = vol / depth
    aspect = rng.uniform(1.0, 3.0)
    h = float(np.sqrt(face / aspect))
    return h, face / h, depth


def drugs_bricks(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Bricks of cocaine or heroin hidden in the cargo (the catalogue's drugs and mass law), a block tilted by up
    to ±20°, displacing the goods it stands in for."""
    material = draw_drug(rng)
    mass = draw_drug_mass(rng)
    h, w, depth = _brick_face(mass, material, rng)
    c = Canvas(h, w, iso_pitch(pitch_mm))
    brick_block(c, material, mass, 0, 0, h, w, rng)
    paths, mask = finish(c, pitch_mm, rng.uniform(-20, 20))
    return ThreatPatch(
        "drugs_bricks", "in_cargo", paths,
        [PatchInstance("drugs", mask, material, paths_mass_kg(paths, pitch_mm, material))],
        removal=displaced(mask, depth),
    )


def cases_block(c: Canvas, y: float, x: float, h: float, w: float, mass_kg: float) -> np.ndarray:
    """``mass_kg`` of the catalogue's master cases over a box of the canvas: tobacco and cardboard by the case's
    shares, thinner along the seams between cases (what tells cases from goods). Returns the box's mask."""
    zero = np.zeros((c.h, c.w), np.float32)
    mask = c.box("cellulose", y, x, h, w, 0.0)
    (py, px), (cl, ch, _) = c.pitch_cm, (v * 100.0 for v in CIGARETTE_CASE.size_m)
    mod = np.ones((c.h, c.w), np.float32)
    mod[(np.arange(c.h) * py - y) % ch < py, :] *= SEAM_PATH
    mod[:, (np.arange(c.w) * px - x) % cl < px] *= SEAM_PATH
    for material, share in CIGARETTE_CASE.materials.items():
        shape = mod if material == "tobacco" else np.ones_like(mod)
        drawn = float(shape[mask].sum()) * py * px * _density(material)
        path = np.where(mask, shape * np.float32(share * mass_kg * 1000.0 / drawn), zero)
        c.paths[material] = c.paths.get(material, zero) + path.astype(np.float32)
    return mask


def cigarettes_cases(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """The catalogue's master cases of cigarettes stacked into a pallet-sized block (up to 3 × 4 cases on its
    face, 1–2 deep along the beam; as many as the consignment's count law gives), in place of the goods."""
    cl, ch, cd = (v * 100.0 for v in CIGARETTE_CASE.size_m)
    n_x = max(1, int(round(rng.uniform(60, 160) / cl)))
    n_z = max(1, int(round(rng.uniform(40, 120) / ch)))
    n_y = max(1, int(rng.uniform(40, 120) / cd))
    n = int(min(n_x * n_z * n_y, rng.integers(*CIGARETTE_CASE.count)))
    c = Canvas(n_z * ch, n_x * cl, pitch_mm)
    mask = cases_block(c, 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], n * CIGARETTE_CASE.mass_kg)
    return ThreatPatch(
        "cigarettes_cases", "in_cargo", c.paths,
        [PatchInstance("cigarettes", mask, "tobacco", c.mass_kg("tobacco") + c.mass_kg("cellulose"))],
        removal=displaced(mask, n_y * cd),
    )


def consignment(rng: np.random.Generator, most: int) -> tuple[int, int]:
    """(stacked along the beam, side by side) for a single piece (half the time) or a consignment of up to
    ``most``, in stacks of at most :data:`MAX_STACK` with the rest beside them."""
    count = 1 if rng.random() < 0.5 else int(rng.integers(2, most + 1))
    stack = min(count, MAX_STACK)
    return stack, int(np.ceil(count / stack))


def draw_firearm(c: Canvas, fa: Firearm, y: float, x: float, pieces: int,
                 clip: tuple[float, float, float, float] | None = None) -> np.ndarray:
    """``pieces`` of a catalogue firearm stacked along the beam, its template's corner at (``y``, ``x``) cm,
    scaled to the piece's mass; parts outside ``clip`` (y, x, h, w) are cut away. Returns its mask."""
    x0, z0, _, _ = fa.extent_m()
    scale = pieces * fa.mass_kg / fa.template_kg()
    mask = np.zeros((c.h, c.w), bool)
    for p in fa.parts:
        top, left = y + (p.z0 - z0) * 100.0, x + (p.x0 - x0) * 100.0
        bottom, right = top + p.h * 100.0, left + p.w * 100.0
        if clip is not None:
            top, left = max(top, clip[0]), max(left, clip[1])
            bottom, right = min(bottom, clip[0] + clip[2]), min(right, clip[1] + clip[3])
            if bottom <= top or right <= left:
                continue
        mask |= c.box(fa.drawn, top, left, bottom - top, right - left, p.path_cm * scale)
    return mask


def _firearms(name: str, rng: np.random.Generator, pitch_mm: tuple[float, float], kind: str,
              angle_deg: tuple[float, float], single: bool = False) -> ThreatPatch:
    """A catalogue firearm, or a consignment of them (stacks side by side, parallel), at an angle drawn in
    ``angle_deg``; the paths are renormalised to the catalogue's mass of the pieces drawn."""
    fa = create_firearm(kind)
    n, groups = (1, 1) if single else consignment(rng, fa.max_count - 1)
    x0, z0, x1, z1 = fa.extent_m()
    h, w = (z1 - z0) * 100.0, (x1 - x0) * 100.0
    gap = h * rng.uniform(1.1, 1.6)  # one stack beside the next
    c = Canvas(h + gap * (groups - 1), w, iso_pitch(pitch_mm))
    for g in range(groups):
        draw_firearm(c, fa, g * gap, 0.0, n)
    c.paths[fa.drawn] *= np.float32(n * groups * fa.mass_kg / c.mass_kg(fa.drawn))  # pixel rounding
    paths, mask = finish(c, pitch_mm, rng.uniform(*angle_deg))
    return ThreatPatch(
        name, "in_cargo", paths,
        [PatchInstance("weapon", mask, fa.material, paths_mass_kg(paths, pitch_mm, fa.drawn))],
        removal=displaced(mask, fa.depth_m * 100.0 * n),
    )


def rifle(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """The catalogue's rifle, or a consignment of up to 11 (stacks of up to 4 along the beam), at any angle."""
    return _firearms("rifle", rng, pitch_mm, "rifle", (0.0, 360.0))


def pistol(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """The catalogue's pistol, or a consignment of up to 24 (stacks of up to 4 along the beam), at any angle."""
    return _firearms("pistol", rng, pitch_mm, "pistol", (0.0, 360.0))


def ammunition(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """One of the catalogue's ammunition boxes, lying within ±10° of flat."""
    return _firearms("ammunition", rng, pitch_mm, "ammo_box", (-10.0, 10.0), single=True)


def grenade(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """The catalogue's hand grenade: an ovoid steel body with its liner and filling, and the fuse and lever on
    top, at any angle."""
    g = GRENADE
    ry, rx = rng.uniform(*g.semi_axes_cm[0]), rng.uniform(*g.semi_axes_cm[1])
    fuse_h, fuse_w, fuse_path = g.fuse_cm
    top = fuse_h - g.shell_cm  # the fuse stands on the shell
    c = Canvas(2 * ry + top, 2 * rx, iso_pitch(pitch_mm))
    yy, xx = np.mgrid[0 : c.h, 0 : c.w].astype(np.float32)
    yy = (yy + 0.5) * c.pitch_cm[0] - (top + ry)
    xx = (xx + 0.5) * c.pitch_cm[1] - rx
    q = 1.0 - (yy / ry) ** 2 - (xx / rx) ** 2
    chord = np.where(q > 0, 2.0 * rx * np.sqrt(np.clip(q, 0, None)), 0).astype(np.float32)  # through the body
    inner = np.clip(chord - 2 * g.shell_cm, 0, None)
    c.paths["steel"] = np.where(chord > 0, np.minimum(chord, 2 * g.shell_cm + g.liner * inner), 0).astype(
        np.float32)
    c.paths[g.filling] = (inner * g.fill).astype(np.float32)
    c.box("steel", 0, rx * g.fuse_at, fuse_h, fuse_w, fuse_path)
    paths, mask = finish(c, pitch_mm, rng.uniform(0, 360))
    return ThreatPatch(
        "grenade", "in_cargo", paths,
        [PatchInstance("weapon", mask, "steel", paths_mass_kg(paths, pitch_mm, "steel", g.filling))],
    )


def drugs_in(
    c: Canvas, rng: np.random.Generator, y: float, x: float, h: float, w: float, depth: float,
    max_kg: float = np.inf,
) -> PatchInstance:
    """Bricks of drugs (the catalogue's mass law, at most what the box holds and ``max_kg``) packed against one
    end of a box of the canvas, full height, 50–90 % of ``depth`` along the beam."""
    drug = draw_drug(rng)
    rho = _density(drug)
    d = depth * rng.uniform(0.5, 0.9)
    mass = min(draw_drug_mass(rng), h * w * d * rho * BRICK.packing / 1000.0, max_kg)
    length = float(np.clip(mass * 1000.0 / (rho * BRICK.packing * h * d), min(w, 5.0), w))
    x0 = x + rng.uniform(0, w - length)
    mask = brick_block(c, drug, mass, y, x0, h, length, rng)
    return PatchInstance("drugs", mask, drug, mass)


def fill(
    c: Canvas, rng: np.random.Generator, y: float, x: float, h: float, w: float, depth: float,
    empty_rate: float = 0.2,
) -> list[PatchInstance]:
    """Contraband in a compartment or cavity (a box of the canvas, ``depth`` cm along the beam): the catalogue's
    contents with its shares, or nothing (``empty_rate``)."""
    if rng.random() < empty_rate or h < c.pitch_cm[0] or w < c.pitch_cm[1]:
        return []
    what = draw_contents(rng)
    if what == "drugs":
        return [drugs_in(c, rng, y, x, h, w, depth)]
    if what == "cigarettes":
        d = depth * rng.uniform(0.5, 0.9)
        length = w * rng.uniform(0.5, 1.0)
        x0 = x + rng.uniform(0, w - length)
        case_kg_cm3 = CIGARETTE_CASE.mass_kg / (np.prod(CIGARETTE_CASE.size_m) * 1e6)
        mask = cases_block(c, y, x0, h, length, h * length * d * case_kg_cm3)
        return [PatchInstance("cigarettes", mask, "tobacco", c.mass_kg("tobacco", mask)
                              + c.mass_kg("cellulose", mask))]
    # weapons: rifles lying along the cavity, stacked along the beam, cut to its height
    fa = create_firearm("rifle")
    before = c.paths.get(fa.drawn, np.zeros((c.h, c.w), np.float32)).copy()
    mask = draw_firearm(c, fa, y, x, int(rng.integers(1, 4)), clip=(y, x, h, w))
    area = c.pitch_cm[0] * c.pitch_cm[1]
    mass = float((c.paths[fa.drawn] - before).sum()) * area * _density(fa.drawn) / 1000.0
    return [PatchInstance("weapon", mask, fa.material, mass)]
