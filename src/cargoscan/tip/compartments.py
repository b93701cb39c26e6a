"""Concealment patches: false walls, floors and roofs, underframe and sill compartments, voids in the cargo.

The sheets, plates and cavity sizes are the threat catalogue's (:mod:`cargoscan.synth.threats`), as the
synthesiser builds them into its wagons; what they hold is drawn by :func:`cargoscan.tip.contraband.fill`. Hidden
compartments follow the wagon's structure and are not rotated; their mask is the compartment's full extent
(sheet and cavity), as the synthesiser labels it. A patch is a window of the compartment: a floor or roof
patch spans 1–3 m of a sheet that may run the whole unit.
"""

from __future__ import annotations

import numpy as np

from cargoscan.synth.threats import Cavity, Compartment, create_cavity, create_compartment
from cargoscan.tip.contraband import drugs_in, fill
from cargoscan.tip.patch import (LOAD_DEPTH_CM, Canvas, PatchInstance, ThreatPatch, box_mask, cavity_mask,
                                 sheet_path)

#: Contraband depth along the beam in a compartment closed by a sheet: the synthesiser's 80 % of the body.
HELD_DEPTH_CM = LOAD_DEPTH_CM * 0.8


def _sheet_cm(comp: Compartment, pitch_cm: float) -> float:
    """Path over one pixel of a catalogue sheet across the body, seen edge-on (a dense line)."""
    return sheet_path(LOAD_DEPTH_CM * comp.width_share, comp.sheet_m * 100.0, pitch_cm)


def false_front_wall(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A false end wall: the catalogue's sheet across the body (edge-on: a dense column) and its cavity
    (0.3–0.8 m deep), 0.8–1.8 m of its height, holding contraband."""
    comp = create_compartment("false_front_wall")
    height, cavity = rng.uniform(80, 180), rng.uniform(*comp.size_m) * 100.0
    c = Canvas(height, cavity + 1.0, pitch_mm)
    sheet = c.box("steel", 0, cavity, height, c.pitch_cm[1], _sheet_cm(comp, c.pitch_cm[1]))
    steel = c.mass_kg("steel")
    contents = fill(c, rng, height * 0.1, 0, height * 0.85, cavity, HELD_DEPTH_CM, empty_rate=0.0)
    return ThreatPatch(
        "false_front_wall", "false_front_wall", c.paths,
        [PatchInstance("hidden_compartment", sheet | cavity_mask(c, cavity), "steel", steel), *contents],
    )


def _floor_or_roof(name: str, rng: np.random.Generator, pitch_mm: tuple[float, float],
                   empty_rate: float) -> ThreatPatch:
    """The catalogue's sheet seen edge-on (a dense row) and the cavity beside it: under it for a floor (the
    sheet on top), over it for a roof (the sheet at the bottom)."""
    comp = create_compartment(name)
    length, depth = rng.uniform(100, 300), rng.uniform(*comp.size_m) * 100.0
    c = Canvas(depth + 1.0, length, pitch_mm)
    py = c.pitch_cm[0]
    sheet_y, cavity_y = (0.0, py) if name == "false_floor" else (c.h * py - py, 0.0)
    sheet = c.box("steel", sheet_y, 0, py, length, _sheet_cm(comp, py))
    steel = c.mass_kg("steel")
    contents = fill(c, rng, cavity_y, 0, c.h * py - py, length, HELD_DEPTH_CM, empty_rate=empty_rate)
    cavity = box_mask(c, cavity_y, 0, c.h * py - py, length)
    return ThreatPatch(
        name, name, c.paths, [PatchInstance("hidden_compartment", sheet | cavity, "steel", steel), *contents],
    )


def false_floor(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A false floor: the catalogue's sheet (8–20 cm above the floor) over flat packages of contraband."""
    return _floor_or_roof("false_floor", rng, pitch_mm, empty_rate=0.0)


def false_roof(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A false roof: the catalogue's sheet (8–20 cm under the roof) under flat packages, sometimes empty."""
    return _floor_or_roof("false_roof", rng, pitch_mm, empty_rate=0.2)


def underframe_box(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """A steel box welded under the floor (40–120 × 20–40 cm, 40–100 cm across the beam, 4–6 mm walls) with
    contraband in it: the side walls cover the face, the top, bottom and ends are plates seen edge-on.
    (Projection's own: the synthesiser's wagons have no such box.)"""
    w, h, depth, t = rng.uniform(40, 120), rng.uniform(20, 40), rng.uniform(40, 100), rng.uniform(0.4, 0.6)
    c = Canvas(h, w, pitch_mm)
    py, px = c.pitch_cm
    mask = c.box("steel", 0, 0, h, w, 2 * t)  # the two side walls across the beam
    for yy in (0, h - py):
        c.box("steel", yy, 0, py, w, sheet_path(depth, t, py))
    for xx in (0, w - px):
        c.box("steel", py, xx, h - 2 * py, px, sheet_path(depth, t, px))
    steel = c.mass_kg("steel")
    contents = fill(c, rng, py, px, h - 2 * py, w - 2 * px, depth - 2 * t, empty_rate=0.1)
    return ThreatPatch(
        "underframe_box", "underframe", c.paths,
        [PatchInstance("hidden_compartment", mask, "steel", steel), *contents],
    )


def structure_compartment(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """The catalogue's sill compartment: two or three plates edge-on, sometimes a cross-member on top, and the
    goods between them (drugs up to its volume × its load density, or weapons)."""
    comp = create_compartment("structure_compartment")
    span, h = rng.uniform(*comp.size_m) * 100.0, comp.height_m * 100.0
    c = Canvas(h, span, pitch_mm)
    py, px = c.pitch_cm
    plates = [0.0, span - px] + ([span * rng.uniform(0.3, 0.7)] if rng.random() < 0.5 else [])
    for xx in plates:
        c.box("steel", 0, xx, h, px, sheet_path(comp.plate_cm, comp.sheet_m * 100.0, px))
    if rng.random() < 0.5:
        c.box("steel", 0, 0, py, span, sheet_path(comp.plate_cm, comp.sheet_m * 100.0, py))  # cross-member
    steel = c.mass_kg("steel")
    mask = box_mask(c, 0, 0, h, span)
    inside = (1.0, px + 1.0, h - 2.0, span - 2 * px - 2.0)
    if rng.random() < 0.85:
        cap = span / 100 * comp.height_m * comp.across_m * comp.load_kg_m3
        contents = [drugs_in(c, rng, *inside, comp.across_m * 100.0, cap)]
    else:
        contents = fill(c, rng, *inside, comp.across_m * 100.0, empty_rate=0.0)
        contents = [i for i in contents if i.cls == "weapon"] or contents
    return ThreatPatch(
        "structure_compartment", "underframe", c.paths,
        [PatchInstance("hidden_compartment", mask, "steel", steel), *contents],
    )


def _cavity_size_cm(cav: Cavity, rng: np.random.Generator) -> tuple[float, float]:
    """(height, width) in cm of a catalogue cavity (twice the half-sides where it gives those)."""
    k = 200.0 if cav.half else 100.0
    w = rng.uniform(*cav.along_m) * k
    return rng.uniform(*cav.up_m) * k, w


def hollowed_goods(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Drugs packed inside a dense good: the catalogue's cavity (its share of the good's path above the wall
    level cut out, ``removal``) with bricks of drugs (up to 50 cm deep) in part of it."""
    cav = create_cavity("hollowed_goods")
    h, w = _cavity_size_cm(cav, rng)
    c = Canvas(h, w, pitch_mm)
    void = np.ones((c.h, c.w), bool)
    removal = np.full((c.h, c.w), rng.uniform(*cav.removed), np.float32)
    drugs = drugs_in(c, rng, 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], rng.uniform(20, 50) / 0.7)
    return ThreatPatch(
        "hollowed_goods", "hollowed_goods", c.paths, [PatchInstance("void", void, "air", 0.0), drugs],
        removal=removal,
    )


def bulk_void(rng: np.random.Generator, pitch_mm: tuple[float, float]) -> ThreatPatch:
    """Missing cargo: the catalogue's bulk void (its share of the background's cargo path absent), sometimes
    (30 %) with contraband in the cavity."""
    cav = create_cavity("bulk_void")
    h, w = _cavity_size_cm(cav, rng)
    c = Canvas(h, w, pitch_mm)
    removal = np.full((c.h, c.w), rng.uniform(*cav.removed), np.float32)
    void = np.ones((c.h, c.w), bool)
    contents = fill(c, rng, 0, 0, c.h * c.pitch_cm[0], c.w * c.pitch_cm[1], 60.0, empty_rate=0.7)
    return ThreatPatch(
        "bulk_void", "hollowed_goods", c.paths, [PatchInstance("void", void, "air", 0.0), *contents],
        removal=removal,
    )
