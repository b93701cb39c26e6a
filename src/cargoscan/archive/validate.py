"""JSON Schema validation of sidecars, label files and table rows (``configs/schemas``)."""

from __future__ import annotations

import csv
import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargoscan.archive.format import TABLE_COLUMNS, TABLE_SCHEMAS, ArchiveError

if TYPE_CHECKING:
    import jsonschema


@lru_cache(maxsize=None)
def schema(name: str) -> dict[str, Any]:
    """The packaged JSON Schema ``<name>.schema.json``."""
    text = resources.files("cargoscan.archive").joinpath("schemas", f"{name}.schema.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def _validator(name: str) -> "jsonschema.protocols.Validator":
    import jsonschema  # imported here: it costs ~1.5 s of CPU, and most CLI calls never validate

    s = schema(name)
    cls = jsonschema.validators.validator_for(s)
    cls.check_schema(s)
    return cls(s)


def validation_errors(name: str, document: Any) -> list[str]:
    """Human-readable schema violations of ``document`` (empty when valid)."""
    out = []
    for err in sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path)):
        where = "/".join(str(p) for p in err.absolute_path) or "(root)"
        out.append(f"{where}: {err.message}")
    return out


def check(name: str, document: Any, path: str | Path) -> None:
    """Raise :class:`ArchiveError` naming ``path`` when ``document`` does not fit schema ``name``."""
    errors = validation_errors(name, document)
    if errors:
        raise ArchiveError(path, f"does not fit schema {name!r}: " + "; ".join(errors[:5]))


def read_table(path: str | Path) -> list[dict[str, str]]:
    """Read one archive table and validate its header and every row.

    Raises:
        ArchiveError: naming the file, and the line for a bad row.
    """
    path = Path(path)
    if not path.exists():
        raise ArchiveError(path, "table not found")
    name = path.name
    if name not in TABLE_SCHEMAS:
        raise ArchiveError(path, f"not an archive table; known: {sorted(TABLE_SCHEMAS)}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if reader.fieldnames != TABLE_COLUMNS[name]:
            raise ArchiveError(path, f"header {reader.fieldnames} != expected {TABLE_COLUMNS[name]}")
        rows = list(reader)
    for i, row in enumerate(rows, start=2):
        errors = validation_errors(TABLE_SCHEMAS[name], row)
        if errors:
            raise ArchiveError(path, f"line {i}: " + "; ".join(errors[:3]))
    return rows


def write_table(path: str | Path, rows: list[dict[str, Any]]) -> None:
    """Write an archive table with its fixed header (UTF-8, no BOM, ``\\n`` line ends)."""
    path = Path(path)
    columns = TABLE_COLUMNS[path.name]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row[k] for k in columns})
