"""One TIP'd scan: choose threats, place them, project them, and write the scan, sidecar and labels.

The semantic mask of a real background is unknown except for the threats we put in and the air around the
wagon, so pixels of the wagon that are not a projected threat carry :data:`UNLABELLED` (255) — an
``ignore_index`` for losses and metrics — while air is ``background`` (0). A background that already has
labels
(a synthetic scan) keeps them, and its instances come first.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cargoscan.archive.io import scan_pitch
from cargoscan.archive import (
    ArchiveError,
    ArchivePaths,
    ScanId,
    encode_rle,
    load_sample,
    write_json,
    write_labels,
    write_scan,
)
from cargoscan.archive.classes import class_id, paint
from cargoscan.archive.validate import check
from cargoscan.tip.config import TipParams
from cargoscan.tip.library import create_threat, list_threats
from cargoscan.tip.placement import PlacementError, attenuation_high, find_envelope, place
from cargoscan.tip.project import Projector

log = logging.getLogger(__name__)

#: Draws of one threat before it is skipped (sizes vary: a consignment of rifles may not fit a small load).
DRAWS = 3

#: Mask value of wagon pixels whose class a real scan does not tell (use as ``ignore_index``).
UNLABELLED = 255


@dataclass
class Placed:
    """One projected object: its full-size mask, class, material, mass and site."""

    cls: str
    mask: np.ndarray
    material: str
    mass_kg: float
    site: str
    threat: str


def make_scanner(meta: dict[str, Any], overrides: dict[str, float] | None = None):
    """The scanner model of a scan: the synthesiser's own parameters for a synthetic scan (its sidecar says
    them), otherwise the default scanner with ``overrides`` (``tip.scanner`` in params)."""
    from cargoscan.physics.scanner import Scanner, ScannerParams

    names = {f.name for f in dataclasses.fields(ScannerParams)}
    known = (meta.get("generator") or {}).get("scanner") or {}
    values = {k: v for k, v in {**known, **(overrides or {})}.items() if k in names}
    return Scanner(ScannerParams(**values))


_PROJECTORS: dict = {}


def projector_for(meta: dict[str, Any], params: TipParams = TipParams()) -> Projector:
    """The projector of a scan's scanner model, cached per scanner parameters (a build takes ~1 s)."""
    scanner = make_scanner(meta, params.scanner)
    key = (scanner.params, repr(params))  # TipParams holds a dict: not hashable itself
    if key not in _PROJECTORS:
        if len(_PROJECTORS) >= 16:
            _PROJECTORS.clear()
        _PROJECTORS[key] = Projector(scanner, params)
    return _PROJECTORS[key]


def tip_image(
    image: np.ndarray,
    pitch_mm: tuple[float, float],
    projector: Projector,
    rng: np.random.Generator,
    params: TipParams = TipParams(),
) -> tuple[np.ndarray, list[Placed]]:
    """Project ``params.threats_per_scan`` threats into a (2, H, W) scan.

    Returns:
        The new scan and the placed objects; a threat with no plausible site is skipped (logged).
    """
    names = list(params.threats) or list_threats()
    lo, hi = params.threats_per_scan
    env = find_envelope(image, params.placement)
    occupied = np.zeros(image.shape[1:], bool)
    placed: list[Placed] = []
    out = image
    for _ in range(int(rng.integers(lo, hi + 1))):
        name = str(rng.choice(names))
        for attempt in range(DRAWS):  # a consignment too large for the load: draw that threat again
            patch = create_threat(name, rng, pitch_mm)
            try:
                y, x = place(out, patch.footprint, patch.site, rng, params.placement, env, occupied)
                break
            except PlacementError as exc:
                log.info("%s %s: %s", "skipped" if attempt == DRAWS - 1 else "redrawn", name, exc)
        else:
            continue
        out = projector.project(out, patch, y, x, rng)
        ph, pw = patch.shape
        occupied[y : y + ph, x : x + pw] |= patch.footprint
        for inst in patch.instances:
            full = np.zeros(image.shape[1:], bool)
            full[y : y + ph, x : x + pw] = inst.mask
            placed.append(Placed(inst.cls, full, inst.material, inst.mass_kg, patch.site, name))
    return out, placed


def label_mask(
    image: np.ndarray, placed: list[Placed], base: np.ndarray | None, wall_level: float
) -> np.ndarray:
    """Semantic mask: the background's labels (or air 0, wagon :data:`UNLABELLED`) with threats painted."""
    if base is None:
        base = np.where(attenuation_high(image) > wall_level, UNLABELLED, 0).astype(np.uint8)
    mask = base.copy()
    unknown = mask == UNLABELLED
    mask[unknown] = 0  # paint() compares priorities; unknown pixels must not outrank a threat
    union = np.zeros(mask.shape, bool)
    for p in placed:
        paint(mask, class_id(p.cls), p.mask)
        union |= p.mask
    mask[unknown & ~union] = UNLABELLED
    return mask


def instances_doc(placed: list[Placed], start: int, unit: str | None) -> list[dict[str, Any]]:
    """Instances in the labels schema, ids from ``start``."""
    out = []
    for i, p in enumerate(placed, start=start):
        bbox, rle = encode_rle(p.mask)
        out.append(
            {
                "id": i,
                "class": p.cls,
                "bbox": bbox,
                "mask": {"rle": rle},
                "material": p.material,
                "mass_kg": round(float(p.mass_kg), 3),
                "site": p.site,
                "unit": unit,
            }
        )
    return out


def tip_id(background_id: str, variant: int) -> str:
    """The TIP'd scan's ID: the background's, with the sequence digit advanced (variants 0..8)."""
    if not 0 <= variant <= 8:
        raise ValueError("at most 9 TIP variants per background scan")
    sid = ScanId.parse(background_id)
    return str(dataclasses.replace(sid, seq=(sid.seq + 1 + variant) % 10))


def tip_scan(
    src: Path,
    dst: Path,
    scan_id: str,
    variant: int,
    projector: Projector | None,
    rng: np.random.Generator,
    params: TipParams = TipParams(),
) -> str | None:
    """Write one TIP'd version of ``scan_id`` from archive ``src`` into archive ``dst``.

    Returns:
        The new scan ID, or ``None`` when nothing could be placed (nothing is written then).

    Raises:
        ArchiveError: for a malformed source entry or a target scan that already exists.
    """
    src_paths = ArchivePaths(src)
    has_labels = src_paths.label_png(scan_id).exists()
    sample = load_sample(src, scan_id, labels=has_labels)
    meta, image = sample["meta"], sample["image"]
    if projector is None:
        projector = projector_for(meta, params)
    pitch = scan_pitch(meta)
    out, placed = tip_image(image, pitch, projector, rng, params)
    if not placed:
        log.warning("%s: no threat could be placed; skipped", scan_id)
        return None
    new_id = tip_id(scan_id, variant)
    paths = ArchivePaths(dst)
    if paths.scan_tiff(new_id).exists():
        raise ArchiveError(paths.scan_tiff(new_id), "already exists; remove it or choose another variant")
    unit = (meta.get("container_numbers") or [None])[0] or meta.get("wagon_number")
    base = sample.get("mask")
    mask = label_mask(out, placed, base, params.placement.wall_level)
    old = list(sample.get("instances", []))
    doc = dict(sample.get("label_doc") or {"schema_version": "1.0", "shape": list(image.shape[1:])})
    doc.update(scan_id=new_id, instances=old + instances_doc(placed, len(old) + 1, unit))
    side = {k: v for k, v in meta.items() if k != "source"}
    side.update(
        scan_id=new_id,
        source={
            "kind": "tip",
            "background": scan_id,
            "threats": sorted({p.threat for p in placed}),
            "background_source": meta.get("source", {}).get("kind", "unknown"),
        },
    )
    check("sidecar", side, paths.sidecar(new_id))
    check("labels", doc, paths.label_json(new_id))
    paths.scans.mkdir(parents=True, exist_ok=True)
    write_scan(paths.scan_tiff(new_id), out)
    write_json(paths.sidecar(new_id), side)
    write_labels(dst, new_id, mask, doc)
    return new_id
