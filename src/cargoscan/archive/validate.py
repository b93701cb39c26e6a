"""JSON Schema validation of sidecars, label files and table rows (``configs/schemas``); tables are read in
:mod:`cargoscan.archive.tables`."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cargoscan.archive.format import ArchiveError

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
    try:
        errors = validation_errors(name, document)
    except RecursionError:   # a document nested deeper than the validator recurses
        raise ArchiveError(path, f"does not fit schema {name!r}: nested too deeply") from None
    if errors:
        raise ArchiveError(path, f"does not fit schema {name!r}: " + "; ".join(errors[:5]))
