"""The ``prepare`` stage: a raw archive → model-pitch scans, a tile index, train-level splits and statistics.

Output layout (``prepare.out_dir``)::

    scans/<scan_id>.image.npy   (C, H, W) input channels in physical units at the model pitch (float16/32)
    scans/<scan_id>.mask.npy    (H, W) uint8 label mask at the model pitch
    index.csv                   one row per usable scan: split, train, wagon, shape, category, threats, sites
    tiles.csv                   one row per tile: scan, split, origin, class pixel counts
    stats.json                  channels, pitch, tile, categories, norm stats (train split), class counts, weights
    quarantine.csv              every rejected file or row with its reason

Extra archive roots (``prepare.extra_dirs``, by default ``data/tip``: real scans with threats projected by
``cargoscan tip``) are mixed in when they exist, so that TIP'd scans make ``mix_ratio`` of the prepared scans
(:func:`cargoscan.data.mix.select`). Their wagon pixels of unknown class carry 255 (``IGNORE_INDEX``) in the masks,
and their cargo category is unknown (empty) unless the background was a labelled synthetic scan. Every scan is
split by its train, whatever its source. Without extra roots (the default) nothing changes.

Scans are stored whole rather than as tile files: tiles overlap, so whole scans are smaller, and evaluation needs
whole wagons anyway. ``.npy`` memory-maps, so the dataset reads only the tiles it needs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from cargoscan.archive.io import scan_pitch
from cargoscan.archive import ArchiveError, ArchivePaths
from cargoscan.archive.classes import class_names, threat_ids
from cargoscan.data.channels import input_channels, resample_mask
from cargoscan.data.config import PrepareParams
from cargoscan.data.splits import SPLITS, split_trains
from cargoscan.data.tiling import crop, tile_grid
from cargoscan.data.validation import (
    SCAN_INDEX_SCHEMA,
    Rejected,
    check_scan,
    check_scans_table,
    orphan_labels,
    relative,
    write_quarantine,
)
from cargoscan.logs import progress

log = logging.getLogger(__name__)

NO_CATEGORY = "none"
#: Category of a scan whose cargo nobody labelled (a TIP'd real scan): not a class of the category head.
UNKNOWN_CATEGORY = ""


def scan_category(label_doc: dict) -> str:
    """The cargo category of a scan: the label file's ``cargo_category``, else its first unit's, else ``none``."""
    cat = label_doc.get("cargo_category")
    if not cat:
        for unit in label_doc.get("units", []) or []:
            if unit.get("cargo_category"):
                cat = unit["cargo_category"]
                break
    return cat or NO_CATEGORY


def threat_summary(mask: np.ndarray, instances: list[dict]) -> tuple[list[str], list[str]]:
    """Threat classes present in the mask and the concealment sites of the threat instances."""
    names = class_names()
    present = sorted({names[i] for i in threat_ids() if np.any(mask == i)})
    threat_names = {names[i] for i in threat_ids()}
    sites = sorted({inst.get("site", "unknown") for inst in instances if inst["class"] in threat_names})
    return present, sites


def class_weights(counts: np.ndarray, power: float = 0.5, cap: float = 50.0) -> list[float]:
    """Inverse-frequency class weights (softened by ``power``, capped), normalised to a mean of 1 over present
    classes; absent classes get weight 1 so the loss stays defined."""
    freq = counts / max(counts.sum(), 1)
    w = np.ones_like(freq, dtype=np.float64)
    present = freq > 0
    w[present] = (1.0 / freq[present]) ** power
    w[present] = np.minimum(w[present] / w[present].min(), cap)
    w[present] /= w[present].mean()
    return [round(float(x), 6) for x in w]


def mixed_sources(params: PrepareParams, n_primary: int, mix_ratio: float) -> list[tuple[Path, str]]:
    """(archive root, scan_id) of the TIP'd scans to mix in from the extra roots that exist, so that they make
    ``mix_ratio`` of the prepared scans (split evenly between the roots)."""
    roots = [Path(d) for d in params.extra_dirs if Path(d).is_dir()]
    if not roots or mix_ratio <= 0:
        return []
    from cargoscan.data.mix import select

    rng = np.random.default_rng(params.seed)
    chosen: list[tuple[Path, str]] = []
    for i, extra in enumerate(roots):
        # Each root supplies its share: ratio r over n primary scans means r/(1-r)·n extra ones in all.
        n_share = n_primary // len(roots) + (i < n_primary % len(roots))
        chosen += select(extra, n_share, min(mix_ratio, 0.99), rng)
    log.info("mixing %d TIP'd scan(s) from %s (tip.mix_ratio %.2f)", len(chosen), [str(r) for r in roots],
             mix_ratio)
    return chosen


def prepare(params: PrepareParams, mix_ratio: float = 0.0) -> dict:
    """Run the stage. Returns the statistics written to ``stats.json``.

    Four steps: validate the archive's tables and list the scans (:func:`_sources`); turn each scan into model
    channels and its tiles (:func:`_prepare_scan`); split by train and take the normalisation from the training
    split (:func:`_split_and_normalise`); write the indexes and the statistics (:func:`_statistics`).

    Args:
        params: the ``prepare`` section.
        mix_ratio: wanted share of TIP'd scans from ``params.extra_dirs`` (``tip.mix_ratio``); 0 = none.
    """
    root, out = Path(params.raw_dir), Path(params.out_dir)
    if not root.exists():
        raise FileNotFoundError(f"{root}: archive not found (run `cargoscan synth` first)")
    (out / "scans").mkdir(parents=True, exist_ok=True)
    for old in (out / "scans").glob("*.npy"):  # a rerun must not keep scans quarantined since
        old.unlink()
    sources, listed, rejected = _sources(params, root, mix_ratio)
    rows, tiles = [], []
    seen: set[str] = set()
    with progress() as bar:
        task = bar.add_task("prepare", total=len(sources))
        for src_root, scan_id, primary in sources:
            bar.advance(task)
            where = "" if primary else f"{src_root.name}/"  # quarantine names say which archive
            if scan_id in seen:
                rejected.append(Rejected(f"{where}scans/{scan_id}.tiff", "duplicate scan ID (already prepared)"))
                continue
            done = _prepare_scan(params, out, src_root, scan_id, primary, where, listed, rejected, seen)
            if done is None:
                continue
            rows.append(done[0])
            tiles += done[1]
    if not rows:
        write_quarantine(out / "quarantine.csv", rejected)
        raise ValueError(f"{root}: no usable scans ({len(rejected)} quarantined, see {out / 'quarantine.csv'})")
    mean, std, ch_n = _split_and_normalise(rows, params)
    index = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    SCAN_INDEX_SCHEMA.validate(index)
    tile_df = pd.DataFrame(tiles).merge(index[["scan_id", "split"]], on="scan_id")
    index.to_csv(out / "index.csv", index=False)
    tile_df.to_csv(out / "tiles.csv", index=False)
    write_quarantine(out / "quarantine.csv", rejected)
    stats = _statistics(params, out, index, tile_df, mean, std, ch_n, len(rejected), mix_ratio)
    (out / "stats.json").write_text(json.dumps(stats, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    log.info("prepared %d scans (%s), %d tiles, %d quarantined → %s", len(rows), stats["scans"], len(tile_df),
             len(rejected), out)
    return stats


def _sources(params: PrepareParams, root: Path, mix_ratio: float
             ) -> tuple[list[tuple[Path, str, bool]], set[str], list[Rejected]]:
    """The scans to prepare ``(archive, scan ID, primary)``, the IDs scans.csv lists, and what the tables reject."""
    paths = ArchivePaths(root)
    table, rejected = check_scans_table(root)
    listed = set(table["ID снимка"]) if len(table) else set()
    scan_ids = paths.scan_ids()
    for missing in sorted(listed - set(scan_ids)):
        rejected.append(Rejected(f"{paths.scans.name}/{missing}.tiff", "listed in scans.csv but the scan is missing"))
    rejected += orphan_labels(root)
    sources = [(root, s, True) for s in scan_ids]
    sources += [(r, s, False) for r, s in mixed_sources(params, len(scan_ids), mix_ratio)]
    return sources, listed, rejected


def _prepare_scan(params: PrepareParams, out: Path, src_root: Path, scan_id: str, primary: bool, where: str,
                  listed: set[str], rejected: list[Rejected], seen: set[str]) -> tuple[dict, list[dict]] | None:
    """Validate one scan, write its model channels and mask; its index row and its tiles (None: quarantined).
    A scan that reads is ``seen``: another of its ID is a duplicate, even if this one's channels are refused."""
    try:
        sample = check_scan(src_root, scan_id, allow_unlabelled=not primary)
    except ArchiveError as exc:
        rejected.append(Rejected(where + relative(src_root, exc.path), exc.reason))
        return None
    seen.add(scan_id)
    meta = sample["meta"]
    kind = str((meta.get("source") or {}).get("kind", "synthetic"))
    if primary and scan_id not in listed:
        log.warning("%s is not listed in scans.csv; using it (its sidecar is valid)", scan_id)
    src = scan_pitch(meta)
    x = input_channels(sample["image"], src, tuple(params.pitch_mm), tuple(params.channels))
    mask = resample_mask(sample["mask"], x.shape[1:])
    if not np.all(np.isfinite(x)):
        rejected.append(Rejected(f"{where}scans/{scan_id}.tiff", "non-finite input channels"))
        return None
    np.save(out / "scans" / f"{scan_id}.image.npy", x.astype(np.dtype(params.dtype)))
    np.save(out / "scans" / f"{scan_id}.mask.npy", mask.astype(np.uint8))
    present, sites = threat_summary(sample["mask"], sample["instances"])
    category = scan_category(sample["label_doc"])
    if kind == "tip" and category == NO_CATEGORY:
        category = UNKNOWN_CATEGORY  # a real background: nobody labelled its cargo
    flat = x.reshape(len(params.channels), -1).astype(np.float64)
    row = {
        "scan_id": scan_id, "train_number": meta["train_number"],
        "wagon_number": meta.get("wagon_number") or "", "height": x.shape[1], "width": x.shape[2],
        "pitch_row_mm": src[0], "pitch_col_mm": src[1],
        "category": category, "has_threat": int(bool(present)),
        "threat_classes": ";".join(present), "sites": ";".join(sites), "source": kind,
        "_sum": flat.sum(1), "_sq": (flat ** 2).sum(1), "_n": x.shape[1] * x.shape[2],
    }
    names = class_names()
    tiles = []
    for y0, x0 in tile_grid(x.shape[1:], params.tile, params.overlap):
        counts = np.bincount(crop(mask, y0, x0, params.tile).ravel(), minlength=len(names))[:len(names)]
        tiles.append({"scan_id": scan_id, "y": y0, "x": x0, **{f"n_{name}": int(c) for name, c in zip(names, counts)}})
    return row, tiles


def _split_and_normalise(rows: list[dict], params: PrepareParams) -> tuple[np.ndarray, np.ndarray, int]:
    """Each row's split (by train: no train in two splits); the channels' mean and std over the training split."""
    ch_sum = np.zeros(len(params.channels))
    ch_sq = np.zeros(len(params.channels))
    ch_n = 0
    split_of = split_trains([r["train_number"] for r in rows], tuple(params.split_fractions), params.seed)
    for r in rows:
        r["split"] = split_of[r["train_number"]]
        if r["split"] == "train":  # normalisation statistics come from the training split only
            ch_sum += r["_sum"]
            ch_sq += r["_sq"]
            ch_n += r["_n"]
    mean = ch_sum / max(ch_n, 1)
    std = np.sqrt(np.maximum(ch_sq / max(ch_n, 1) - mean ** 2, 1e-12))
    return mean, std, ch_n


def _statistics(params: PrepareParams, out: Path, index: pd.DataFrame, tile_df: pd.DataFrame, mean: np.ndarray,
                std: np.ndarray, ch_n: int, n_rejected: int, mix_ratio: float) -> dict:
    """``stats.json``: channels, normalisation, class pixels and weights, counts per split."""
    names, n_cls = class_names(), len(class_names())
    # Tiles overlap, so class counts come from the stored masks, not the tiles.
    counts = {s: np.zeros(n_cls, dtype=np.int64) for s in SPLITS}
    for scan_id, split in zip(index["scan_id"], index["split"]):
        m = np.load(out / "scans" / f"{scan_id}.mask.npy")
        counts[split] += np.bincount(m.ravel(), minlength=n_cls)[:n_cls]  # 255 (unlabelled) is not a class
    return {
        "raw_dir": str(params.raw_dir),
        "channels": list(params.channels), "pitch_mm": list(params.pitch_mm), "tile": params.tile,
        "overlap": params.overlap, "classes": names,
        "categories": sorted(set(index["category"]) - {UNKNOWN_CATEGORY}),
        "norm_mean": [round(float(v), 6) for v in mean] if ch_n else [0.0] * len(params.channels),
        "norm_std": [round(float(v), 6) for v in std] if ch_n else [1.0] * len(params.channels),
        "class_pixels": {s: {n: int(c) for n, c in zip(names, counts[s])} for s in SPLITS},
        "class_weights": class_weights(counts["train"] if counts["train"].sum() else sum(counts.values())),
        "scans": {s: int((index["split"] == s).sum()) for s in SPLITS},
        "trains": {s: int(index.loc[index["split"] == s, "train_number"].nunique()) for s in SPLITS},
        "tiles": {s: int((tile_df["split"] == s).sum()) for s in SPLITS},
        "threat_scans": {s: int(index.loc[index["split"] == s, "has_threat"].sum()) for s in SPLITS},
        "tiles_with_threat": int((tile_df[[f"n_{names[i]}" for i in threat_ids()]].sum(1) > 0).sum()),
        "quarantined": n_rejected,
        "sources": {s: {k: int(v) for k, v in index.loc[index["split"] == s, "source"].value_counts().items()}
                    for s in SPLITS},
        "mix_ratio": float(mix_ratio),
    }
