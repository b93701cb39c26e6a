"""Declarations (preliminary information): matching a scan to its rows, and HS code → cargo category.

A scan is matched to the rows of ``declarations.csv`` whose wagon number equals the sidecar's, or whose
container number is one of the sidecar's containers (a container moved to another wagon still matches), and,
when both carry one, whose train number agrees.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cargoscan.archive import ArchiveError, read_declarations, read_json
from cargoscan.archive.validate import validation_errors


@dataclass(frozen=True)
class Category:
    name: str
    ru: str
    hs: tuple[str, ...]
    density_g_cm3: tuple[float, float]
    materials: tuple[str, ...]
    packaging_fraction: float = 0.0
    packaging_sigma: float | None = None     # 1-σ spread of the packaging share over honest units; None: p/2
    also_hs: tuple[str, ...] = ()            # codes whose goods may also travel as this category (their form)


#: The table derived from the synthesiser's cargo definitions (``python -m cargoscan.bench.category_physics``).
JSON_NAME = "category_physics.json"


@lru_cache(maxsize=1)
def load_derived() -> dict[str, Any]:
    """The packaged derived table (``category_physics.json``)."""
    return json.loads(resources.files("cargoscan.inspect").joinpath(JSON_NAME).read_text(encoding="utf-8"))


@lru_cache(maxsize=8)
def load_categories(path: str = "") -> dict[str, Category]:
    """The HS→category map: ``path``, or the packaged ``hs_categories.yaml``.

    A row's ``density_g_cm3``, ``materials`` and ``packaging_fraction`` not set in the file come from the values
    derived from the synthesiser's cargo definitions (:mod:`cargoscan.bench.category_physics`).

    Raises:
        ValueError: a row that sets none of them for a category the derivation does not know.
    """
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("cargoscan.inspect").joinpath("hs_categories.yaml").read_text(encoding="utf-8")
    rows = yaml.safe_load(text)["categories"]
    derived = load_derived()["categories"]
    out = {}
    for name, r in rows.items():
        r = {**derived.get(name, {}), **r}
        missing = [k for k in ("density_g_cm3", "materials") if k not in r]
        if missing:
            raise ValueError(f"category {name!r}: no {', '.join(missing)} in the table and none derived")
        out[name] = Category(name, r["ru"], tuple(str(h) for h in r["hs"]), tuple(r["density_g_cm3"]),
                             tuple(r["materials"]), float(r.get("packaging_fraction", 0.0)),
                             None if r.get("packaging_sigma") is None else float(r["packaging_sigma"]),
                             tuple(str(h) for h in r.get("also_hs", ())))
    return out


def hs_category(hs_code: str, categories: dict[str, Category]) -> str | None:
    """The category of an HS code by longest prefix, or None."""
    best, name = 0, None
    for cat in categories.values():
        for prefix in cat.hs:
            if hs_code.startswith(prefix) and len(prefix) > best:
                best, name = len(prefix), cat.name
    return name


def hs_alternatives(hs_code: str, categories: dict[str, Category]) -> list[str]:
    """The categories other than :func:`hs_category`'s that goods under ``hs_code`` may also travel as: an HS code
    names the goods, not their physical form (methanol, 2905, in drums is a chemical, in a tank wagon a liquid),
    and the scanner sees the form. Each category's ``also_hs`` prefixes, in the table's order."""
    primary = hs_category(hs_code, categories)
    return [c.name for c in categories.values()
            if c.name != primary and any(hs_code.startswith(p) for p in c.also_hs)]


def read_declaration_file(path: str | Path) -> list[dict[str, str]]:
    """Validated rows from a declarations file of any name — CSV (optional BOM) or XLSX, read by
    :func:`cargoscan.archive.read_declarations` as the registry reads it — or a JSON file holding one row, a list
    of rows or ``{"rows": [...]}``.

    Raises:
        ArchiveError: naming the file for an unreadable file or, with its line or index, a row that fails the
            declarations schema (the inspection then runs on no declaration rather than a wrong one).
    """
    path = Path(path)
    if path.suffix.lower() != ".json":
        rows = read_declarations(path)
        where = "line {}"
        first = 2                                     # the header is line 1
    else:
        doc = read_json(path)
        rows = doc.get("rows", [doc]) if isinstance(doc, dict) else doc
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ArchiveError(path, "expected a row object, a list of rows or {\"rows\": [...]}")
        rows = [{str(k): "" if v is None else str(v) for k, v in row.items()} for row in rows]
        where = "row {}"
        first = 0
    for i, row in enumerate(rows, start=first):
        errors = validation_errors("declarations", row)
        if errors:
            raise ArchiveError(path, f"{where.format(i)}: " + "; ".join(errors[:3]))
    return rows


def match_rows(meta: dict[str, Any], rows: list[dict[str, str]]) -> list[dict[str, str]]:
    """The declaration rows that belong to the scan described by ``meta`` (its sidecar)."""
    wagon, containers = meta.get("wagon_number"), set(meta.get("container_numbers") or [])
    train = meta.get("train_number")
    out = []
    for row in rows:
        if train and row.get("train_number") and row["train_number"] != train:
            continue
        if (wagon and row.get("wagon_number") == wagon) or (row.get("container_number") in containers):
            out.append(row)
    return out


def summarise(rows: list[dict[str, str]], categories: dict[str, Category]) -> dict[str, Any] | None:
    """The declaration block of an inspection: rows, PI numbers, categories and summed weights."""
    if not rows:
        return None
    cats = [hs_category(str(r.get("hs_code", "")), categories) for r in rows]
    return {
        "pi_numbers": sorted({str(r.get("pi_number", "")) for r in rows}),
        "rows": rows,
        "hs_codes": [str(r.get("hs_code", "")) for r in rows],
        "goods": [str(r.get("goods_description", "")) for r in rows],
        "categories": cats,
        "categories_ru": [categories[c].ru if c else None for c in cats],
        "alternatives": [hs_alternatives(str(r.get("hs_code", "")), categories) for r in rows],
        "net_weight_kg": round(sum(_number(r.get("net_weight_kg")) for r in rows), 1),
        "gross_weight_kg": round(sum(_number(r.get("gross_weight_kg")) for r in rows), 1),
        "packages_count": sum(int(_number(r.get("packages_count"), integer=True)) for r in rows),
    }


def _number(text: Any, integer: bool = False) -> float:
    """A declared number, or NaN when it is not one (the declaration check names it: DECLARATION_INVALID; the
    summary must not raise on it). A count that is not an integer reads 0."""
    try:
        return float(int(str(text))) if integer else float(str(text))
    except (TypeError, ValueError, OverflowError):
        return 0.0 if integer else float("nan")
