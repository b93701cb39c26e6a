"""Declarations (preliminary information): matching a scan to its rows, and HS code → cargo category.

A scan is matched to the rows of ``declarations.csv`` whose wagon number equals the sidecar's, or whose
container number is one of the sidecar's containers (a container moved to another wagon still matches), and,
when both carry one, whose train number agrees.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from cargoscan.archive import read_json, read_table
from cargoscan.archive.validate import validation_errors


@dataclass(frozen=True)
class Category:
    name: str
    ru: str
    hs: tuple[str, ...]
    density_g_cm3: tuple[float, float]
    materials: tuple[str, ...]
    packaging_fraction: float = 0.0


@lru_cache(maxsize=8)
def load_categories(path: str = "") -> dict[str, Category]:
    """The HS→category map: ``path``, or the packaged ``hs_categories.yaml``."""
    if path:
        text = Path(path).read_text(encoding="utf-8")
    else:
        text = resources.files("cargoscan.inspect").joinpath("hs_categories.yaml").read_text(encoding="utf-8")
    rows = yaml.safe_load(text)["categories"]
    return {name: Category(name, r["ru"], tuple(str(h) for h in r["hs"]), tuple(r["density_g_cm3"]),
                           tuple(r["materials"]), float(r.get("packaging_fraction", 0.0))) for name, r in rows.items()}


def hs_category(hs_code: str, categories: dict[str, Category]) -> str | None:
    """The category of an HS code by longest prefix, or None."""
    best, name = 0, None
    for cat in categories.values():
        for prefix in cat.hs:
            if hs_code.startswith(prefix) and len(prefix) > best:
                best, name = len(prefix), cat.name
    return name


def read_declaration_file(path: str | Path) -> list[dict[str, str]]:
    """Rows from ``declarations.csv`` (validated) or a JSON file holding one row or a list of rows."""
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return read_table(path)
    doc = read_json(path)
    rows = doc if isinstance(doc, list) else doc.get("rows", [doc]) if isinstance(doc, dict) else []
    out = []
    for i, row in enumerate(rows):
        row = {k: "" if v is None else str(v) for k, v in row.items()}
        errors = validation_errors("declarations", row)
        if errors:
            raise ValueError(f"{path}: row {i}: " + "; ".join(errors[:3]))
        out.append(row)
    return out


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
    cats = [hs_category(r["hs_code"], categories) for r in rows]
    return {
        "pi_numbers": sorted({r["pi_number"] for r in rows}),
        "rows": rows,
        "hs_codes": [r["hs_code"] for r in rows],
        "goods": [r["goods_description"] for r in rows],
        "categories": cats,
        "categories_ru": [categories[c].ru if c else None for c in cats],
        "net_weight_kg": round(sum(float(r["net_weight_kg"]) for r in rows), 1),
        "gross_weight_kg": round(sum(float(r["gross_weight_kg"]) for r in rows), 1),
        "packages_count": sum(int(r["packages_count"]) for r in rows),
    }
