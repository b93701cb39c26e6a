"""Each unit of a wagon judged on its own: a container (or the wagon, when it carries none) with its own load,
its own declaration rows, its own cargo category and its own mass.

A flat wagon with two 20-foot containers often carries two consignments: steel in one, garments in the other.
Judged as one load, the wagon's category is a blend that matches neither declaration row, and a lie in one
container hides in the other's honest figures. So the engine splits the load at the units' spans
(:func:`cargoscan.inspect.findings.unit_spans`) and, per unit:

* its declaration rows: those naming its container, or every row of the wagon for the wagon itself
  (:func:`unit_rows`);
* its category: the head's logits over the column windows inside its span (:meth:`TiledResult.span_logits
  <cargoscan.inspect.tiling.TiledResult.span_logits>`), fused with its own load's physics
  (:mod:`cargoscan.inspect.fusion`), against its own declared categories;
* its mass and material: the wagon's λ map restricted to its columns, against its own declared net mass.

:func:`unit_records` reads the same per-unit blocks back from an inspection document, so export fits the fusion
on units exactly as the engine applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from cargoscan.inspect import declarations as decl
from cargoscan.inspect.declarations import Category


@dataclass(frozen=True)
class Unit:
    """One unit of a scan: its name, its model columns and its declaration."""

    name: str
    span: tuple[int, int]              # [first, end) columns at the model pitch
    rows: tuple[dict[str, str], ...]   # its declaration rows
    summary: dict[str, Any] | None     # declarations.summarise of those rows
    declared: tuple[str, ...]          # its declared categories (known ones only)
    accepted: tuple[str, ...] = ()     # those and the forms their HS codes may also take (hs_alternatives)

    def columns(self, shape: tuple[int, int]) -> np.ndarray:
        """A boolean (H, W) map of the unit's columns."""
        where = np.zeros(shape, bool)
        where[:, self.span[0]:self.span[1]] = True
        return where


#: The category of an empty container or wagon travelling as goods (8609, 8606).
EMPTY = "empty"


def judges_goods(accepted) -> bool:
    """Whether the cargo check weighs a unit's look against these accepted categories: not for a unit declared
    empty, which carries no goods to compare (whether anything is in it is the mass check's question)."""
    return bool(accepted) and set(accepted) != {EMPTY}


def unit_rows(name: str, rows: list[dict[str, str]], containers: list[str]) -> list[dict[str, str]]:
    """The declaration rows of one unit: those naming its container; for the wagon itself (``name`` not among
    ``containers``), every row."""
    if name in containers:
        return [r for r in rows if r.get("container_number") == name]
    return list(rows)


def split(spans, rows: list[dict[str, str]], meta: Mapping[str, Any], categories: dict[str, Category]
          ) -> list[Unit]:
    """The units of a scan from its spans (:class:`~cargoscan.inspect.findings.UnitSpans`) and the rows the
    declaration check matched to it."""
    containers = [str(c) for c in meta.get("container_numbers") or []]
    out = []
    for name, (c0, c1) in zip(spans.names, spans.spans):
        mine = unit_rows(str(name), rows, containers)
        summary = decl.summarise(mine, categories)
        declared = tuple(c for c in (summary or {}).get("categories", []) if c)
        also = [c for cs in (summary or {}).get("alternatives", []) for c in cs]
        out.append(Unit(str(name), (int(c0), int(c1)), tuple(mine), summary, declared,
                        tuple(dict.fromkeys([*declared, *also]))))
    return out


def packaging_fraction(declared: tuple[str, ...] | list[str], categories: dict[str, Category]) -> float:
    """The mean packaging share of the declared categories (0 with none declared)."""
    return float(np.mean([categories[c].packaging_fraction for c in declared])) if declared else 0.0


def declared_category(declared: tuple[str, ...] | list[str], categories: dict[str, Category]) -> Category | None:
    """The one declared category the density and material check judges against; None when zero or several."""
    return categories.get(declared[0]) if len(set(declared)) == 1 else None


def forms(summary: Mapping[str, Any] | None, head: Mapping[str, float]) -> tuple[str, ...]:
    """Each declared row's category as the physics judges it (the packaging share of its mass, its density
    range): of the forms its HS code may take (its own category and ``hs_alternatives``), the one the category
    head finds likeliest in the image — methanol in a tank wagon is judged as a liquid, in drums as a chemical; a
    row without alternatives keeps its own category."""
    if not summary:
        return ()
    cats = summary.get("categories") or []
    alts = summary.get("alternatives") or [[] for _ in cats]
    out = []
    for cat, also in zip(cats, alts):
        if cat:
            out.append(max([cat, *also], key=lambda c: float(head.get(c, 0.0))) if also else cat)
    return tuple(out)


def record(head_probabilities: Mapping[str, float], material: Mapping[str, Any], mass: Mapping[str, Any],
           meta: Mapping[str, Any]) -> dict[str, Any]:
    """What the fusion reads for one unit (:func:`cargoscan.inspect.fusion.features`), shaped as an inspection."""
    return {"cargo": {"probabilities": dict(head_probabilities)}, "material": dict(material), "mass": dict(mass),
            "meta": dict(meta)}


def unit_records(doc: Mapping[str, Any]) -> list[tuple[str, dict[str, Any], list[str]]]:
    """``(unit, fusion record, accepted categories)`` for each unit of one inspection document: its per-unit
    blocks (``cargo.units``, ``material.per_unit``, ``mass.units``) where it has them, else the wagon as one
    unit (``unit`` ""), as an inspection written before units were judged apart."""
    cargo, material, mass = doc.get("cargo") or {}, doc.get("material") or {}, doc.get("mass") or {}
    meta = doc.get("meta") or {}
    units = cargo.get("units")
    if isinstance(units, list) and units:
        mats = {m.get("unit"): m for m in material.get("per_unit") or [] if isinstance(m, dict)}
        masses = {m.get("unit"): m for m in mass.get("units") or [] if isinstance(m, dict)}
        out = []
        for u in units:
            name = u.get("unit")
            if name not in mats or name not in masses:
                continue
            probs = u.get("head_probabilities") or u.get("probabilities") or {}
            accepted = u.get("accepted") or u.get("declared") or []
            out.append((str(name), record(probs, mats[name], masses[name], meta), list(accepted)))
        return out
    probs = cargo.get("head_probabilities") or cargo.get("probabilities") or {}
    if not material or not mass:
        return []
    return [("", record(probs, material, mass, meta), list(cargo.get("declared") or []))]
