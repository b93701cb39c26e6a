"""Threats and concealments to project: the library of patches drawn from the synthesiser's threat catalogue.

A :class:`ThreatPatch` (:mod:`cargoscan.tip.patch`) is what the physics needs and what the labels say:
per-material path maps (cm along the beam, over a small H×W window at the scan's pitch), optionally a map of the
background's cargo that is *removed* (voids, hollowed goods), and the labelled instances inside the window. Every
object is the synthesiser's threat catalogue's (:mod:`cargoscan.synth.threats`: materials, templates, sizes and
mass laws), rendered standalone by :mod:`cargoscan.tip.contraband` and :mod:`cargoscan.tip.compartments`,
following concealment practice:

===================== ================ ===================================================================
threat                site             what
===================== ================ ===================================================================
drugs_bricks          in_cargo         1–500 kg of cocaine/heroin bricks (log-uniform, as the synthesiser)
cigarettes_cases      in_cargo         a pallet-sized block of the catalogue's master cases (11 kg each)
rifle, pistol         in_cargo         a firearm or a consignment (≤ 11 rifles, ≤ 24 pistols; stacks of ≤ 4 along
                                       the beam, side by side), at any angle
ammunition            in_cargo         the catalogue's box of cartridges (12 kg), lying near flat
grenade               in_cargo         a hand grenade: steel body, ammonium-nitrate-like filling
false_front_wall      false_front_wall a steel sheet across the body near an end, contraband behind it
false_floor           false_floor      a sheet edge-on (a dense row), flat packages beneath
false_roof            false_roof       a sheet edge-on under the roof, flat packages above it
underframe_box        underframe       a welded steel box under the floor with contraband
structure_compartment underframe       two or three plates edge-on (and a cross-member) in the sills, goods
                                       between them (the catalogue's sill compartment)
hollowed_goods        hollowed_goods   part of a dense good cut out (removal) and drugs packed in its place
bulk_void             hollowed_goods   missing cargo: part of the background's cargo absent (removal),
                                       sometimes with contraband in the cavity
===================== ================ ===================================================================

Objects that may lie at any angle (firearms, bricks, ammunition, grenades) are drawn on a square-pixel canvas,
rotated, resampled to the scan's pitch and renormalised to their drawn mass: their masks are exactly
``path > 0``. Contraband set into the cargo (bricks, cases, firearms) **displaces** the goods it stands in for
(``removal`` over its mask: its depth along the beam over :data:`LOAD_DEPTH_CM`), as the synthesiser cuts them.
Hidden compartments follow the wagon's structure and are not rotated; their mask is the compartment's full
extent (sheet and cavity), as the synthesiser labels it.

``list_threats()`` / ``create_threat(name, rng, pitch_mm)`` in the timm manner.
"""

from __future__ import annotations

import functools
from typing import Callable

import numpy as np

from cargoscan.synth.threats import DRUG_MASS_KG
from cargoscan.tip.compartments import (bulk_void, false_floor, false_front_wall, false_roof, hollowed_goods,
                                        structure_compartment, underframe_box)
from cargoscan.tip.contraband import MAX_STACK, ammunition, cigarettes_cases, drugs_bricks, grenade, pistol, rifle
from cargoscan.tip.patch import LOAD_DEPTH_CM, PatchInstance, ThreatPatch

__all__ = ["DRUG_MASS_KG", "LOAD_DEPTH_CM", "MAX_STACK", "PatchInstance", "THREATS", "ThreatPatch",
           "create_threat", "list_threats", "threat_site"]

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
