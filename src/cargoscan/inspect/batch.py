"""Batch inspection of an archive: resumable, one failing scan never stops it.

Per scan ``<out>/<scan_id>.json`` (the inspection); after the run ``<out>/summary.csv`` over every scan. A scan is
skipped when its JSON exists with the same scan SHA-256 and model SHA-256 — so a rerun after a crash, or after
new scans arrive, only does the missing work, and a new model redoes everything. Incomplete analyses are always
retried (the cause may have been transient or fixed since).
"""

from __future__ import annotations

import csv
import json
import logging
import time
from pathlib import Path
from typing import Any

from cargoscan.archive import ArchivePaths
from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.result import FAILED_PREFIX
from cargoscan.models.artifact import sha256_file

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = ["scan_id", "decision", "suspicious", "complete", "reason_codes", "risk_areas", "classes",
                   "predicted_category", "declared_categories", "mass_net_kg", "declared_net_kg", "model_sha256",
                   "seconds", "status"]


def up_to_date(path: Path, scan_sha: str, model_sha: str | None) -> dict[str, Any] | None:
    """The stored inspection when it matches this scan and model, else None."""
    if not path.exists() or model_sha is None:
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    prov = doc.get("provenance") or {}
    same = prov.get("scan_sha256") == scan_sha and (prov.get("model") or {}).get("sha256") == model_sha
    if same and doc.get("complete"):   # an incomplete analysis (timeout, missing library, ...) is retried
        return doc
    return None


def finished(scan: Path, target: Path, model_sha: str | None) -> dict[str, Any] | None:
    """The stored inspection ``target`` of ``scan`` when it is up to date (same scan bytes, same model, complete),
    else None — also when the scan cannot be read (it is then inspected, and fails closed)."""
    try:
        scan_sha = sha256_file(scan)
    except OSError:
        return None
    return up_to_date(target, scan_sha, model_sha)


def summary_row(doc: dict[str, Any], status: str, seconds: float | None) -> dict[str, Any]:
    areas = doc.get("risk_areas") or []
    return {"scan_id": doc["scan_id"], "decision": doc["decision"], "suspicious": int(doc["suspicious"]),
            "complete": int(doc["complete"]), "reason_codes": ";".join(r["code"] for r in doc["reasons"]),
            "risk_areas": len(areas), "classes": ";".join(sorted({a["class"] for a in areas})),
            "predicted_category": (doc.get("cargo") or {}).get("predicted") or "",
            "declared_categories": ";".join(c or "" for c in (doc.get("cargo") or {}).get("declared") or []),
            "mass_net_kg": (doc.get("mass") or {}).get("net_kg", ""),
            "declared_net_kg": (doc.get("mass") or {}).get("declared_net_kg") or "",
            "model_sha256": ((doc.get("provenance") or {}).get("model") or {}).get("sha256") or "",
            "seconds": "" if seconds is None else round(seconds, 3), "status": status}


def inspect_archive(root: str | Path, out: str | Path, artifact: str | Path, params: InspectParams,
                    declarations: str | Path | None = None, conclusions: bool = False, limit: int = 0,
                    decomposer_factory=None, only: set[str] | None = None) -> dict[str, int]:
    """Inspect every scan under ``root/scans`` (or only the IDs in ``only``).

    Returns:
        Counts: inspected, skipped (up to date), suspicious, failed.
    """
    from cargoscan.inspect.conclusion import write_conclusion
    from cargoscan.inspect.declarations import read_declaration_file
    from cargoscan.inspect.engine import Inspector
    from cargoscan.logs import progress

    paths = ArchivePaths(Path(root))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    decl_path = Path(declarations) if declarations else paths.table("declarations.csv")
    rows = None
    if decl_path.exists():
        rows = read_declaration_file(decl_path)
    else:
        log.warning("%s not found: every scan is inspected without preliminary information", decl_path)
    inspector = Inspector.load(artifact, params, decomposer_factory=decomposer_factory)
    ids = [sid for sid in paths.scan_ids() if only is None or sid in only][: limit or None]
    counts = {"inspected": 0, "skipped": 0, "suspicious": 0, "failed": 0}
    summary = []
    with progress() as bar:
        task = bar.add_task("inspect", total=len(ids))
        for sid in ids:
            scan = paths.scan_tiff(sid)
            target = out / f"{sid}.json"
            doc = finished(scan, target, inspector.model_sha)
            if doc is not None:
                counts["skipped"] += 1
                summary.append(summary_row(doc, "skipped", None))
            else:
                t0 = time.perf_counter()
                try:
                    result = inspector.inspect(scan, rows)   # never raises; fails closed
                    if conclusions:
                        write_conclusion(result, out, scan, params.conclusion_template or None,
                                         params.overlay_width_px)
                    else:
                        target.write_text(result.to_json(), encoding="utf-8")
                    doc = result.to_dict()
                except Exception as exc:  # writing failed (disk): record and go on
                    log.error("%s: %s", sid, exc)
                    doc = {"scan_id": sid, "decision": "", "suspicious": True, "complete": False,
                           "reasons": [{"code": FAILED_PREFIX + "ERROR", "text": str(exc)}]}
                counts["inspected"] += 1
                summary.append(summary_row(doc, "inspected", time.perf_counter() - t0))
            counts["suspicious"] += int(bool(doc["suspicious"]))
            counts["failed"] += int(not doc["complete"])
            bar.advance(task)
    with (out / "summary.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=SUMMARY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(summary)
    return counts
