"""The dataset report: what the archive holds, how balanced it is, and how real its scans look."""

from __future__ import annotations

import logging
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from cargoscan.archive.classes import load_classes
from cargoscan.reports import figures
from cargoscan.reports.sources import (
    REALISM_PAIRS,
    THREAT_CLASSES,
    Archive,
    load_scan,
    read_realism_targets,
    realism_function,
)

log = logging.getLogger(__name__)


def contents(arc: Archive) -> pd.DataFrame:
    """One line per headline figure of the archive (what a reviewer checks first)."""
    s = arc.scans
    rows = [
        ("scans", len(s)),
        ("trains", s["train_number"].nunique()),
        ("wagons identified", int(s["wagon_number"].notna().sum())),
        ("containers", int(s["n_containers"].sum())),
        ("consignments (declarations)", len(arc.declarations)),
        ("labelled scans", int(s["has_labels"].sum())),
        ("scans with a threat", int(s["scan_id"].isin(_threat_scans(arc)).sum())),
        ("first scan", f"{s['scanned_at'].min():%Y-%m-%d %H:%M}" if len(s) else "—"),
        ("last scan", f"{s['scanned_at'].max():%Y-%m-%d %H:%M}" if len(s) else "—"),
        ("image height, px (min–max)", f"{s['height'].min()}–{s['height'].max()}" if len(s) else "—"),
        ("image width, px (min–max)", f"{s['width'].min()}–{s['width'].max()}" if len(s) else "—"),
        ("pixel pitch row × column, mm", ", ".join(sorted({f"{r:g} × {c:g}" for r, c in
                                                         zip(s["pitch_row_mm"], s["pitch_col_mm"])}))),
    ]
    return pd.DataFrame(rows, columns=["item", "value"]).set_index("item")


def _threat_scans(arc: Archive) -> set[str]:
    if arc.instances.empty:
        return set()
    return set(arc.instances.loc[arc.instances["class"].isin(THREAT_CLASSES), "scan_id"])


def breakdown(arc: Archive) -> pd.DataFrame:
    """Scans per wagon type × direction × cargo category (counts)."""
    s = arc.scans.assign(cargo_category=arc.scans["cargo_category"].fillna("—"))
    return s.groupby(["wagon_type", "direction", "cargo_category"]).size().rename("scans").reset_index()


def class_balance(arc: Archive, max_scans: int = 0) -> pd.DataFrame:
    """Per label class: instances, scans containing it and its share of labelled pixels.

    Args:
        arc: the archive.
        max_scans: read at most this many label masks for the pixel shares (0 = all); the first ones in
            scan-ID order, so the figure is reproducible.
    """
    ids = arc.scans.loc[arc.scans["has_labels"], "scan_id"].tolist()
    ids = ids[:max_scans] if max_scans else ids
    counts = np.zeros(len(load_classes()), dtype=np.int64)
    for sid in ids:
        from cargoscan.archive import read_labels

        mask, _ = read_labels(arc.root, sid)
        counts += np.bincount(mask.ravel(), minlength=len(counts))[: len(counts)]
    inst = arc.instances
    rows = []
    for c in load_classes():
        sub = inst[inst["class"] == c.name] if not inst.empty else inst
        rows.append({"class": c.name, "ru": c.ru, "threat": c.threat, "instances": len(sub),
                     "scans": sub["scan_id"].nunique() if len(sub) else 0,
                     "pixel share, %": f"{100.0 * counts[c.id] / max(1, counts.sum()):.2f}"})
    return pd.DataFrame(rows)


def concealment_sites(arc: Archive) -> pd.DataFrame:
    """Threat instances per class × concealment site, with the mean concealed mass."""
    inst = arc.instances
    if inst.empty:
        return pd.DataFrame()
    thr = inst[inst["class"].isin(THREAT_CLASSES)]
    table = pd.crosstab(thr["class"], thr["site"], margins=True, margins_name="total")
    return table


def weights(arc: Archive) -> pd.DataFrame:
    """Per consignment: declared and true net weight (kg), the relative difference and the mismatch kind."""
    t, d = arc.truth, arc.declarations
    if t.empty or d.empty:
        return pd.DataFrame(columns=["pi_number", "declared_net_kg", "true_net_kg", "difference, %",
                                     "mismatch"])
    m = t.merge(d[["pi_number", "net_weight_kg"]], on="pi_number", how="left")
    out = pd.DataFrame({"pi_number": m["pi_number"], "declared_net_kg": m["net_weight_kg"],
                        "true_net_kg": m["true_net_weight_kg"], "mismatch": m["mismatch"]})
    declared = out["declared_net_kg"].where(out["declared_net_kg"] > 0)   # undeclared goods: no percentage
    out["difference, %"] = 100.0 * (out["true_net_kg"] - declared) / declared
    return out


def mismatch_summary(w: pd.DataFrame) -> pd.DataFrame:
    """Consignments per mismatch kind, with the median and worst weight difference."""
    if w.empty:
        return pd.DataFrame()
    g = w.groupby("mismatch")["difference, %"]
    return pd.DataFrame({"consignments": g.size(), "median difference, %": g.median(),
                         "largest |difference|, %": g.apply(lambda s: s.abs().max())})


def weights_figure(w: pd.DataFrame) -> plt.Figure:
    """Declared against true net weight, one point per consignment, coloured by mismatch kind."""
    return figures.mass_scatter(w, "declared_net_kg", "true_net_kg", "mismatch", "declared net weight, kg",
                          "true net weight, kg", "Declared vs true net weight")


def sample_items(arc: Archive, n: int) -> list[dict[str, Any]]:
    """``n`` scans for the overlay gallery: one per threat class first, then clean ones (deterministic)."""
    chosen: list[str] = []
    inst = arc.instances
    for cls in THREAT_CLASSES:
        if inst.empty:
            break
        hit = sorted(set(inst.loc[inst["class"] == cls, "scan_id"]) - set(chosen))
        if hit and len(chosen) < n:
            chosen.append(hit[0])
    rest = [s for s in arc.scans["scan_id"] if s not in chosen]
    chosen += rest[: max(0, n - len(chosen))]
    items = []
    for sid in chosen:
        image, mask = load_scan(arc, sid)
        row = arc.scans.set_index("scan_id").loc[sid]
        cls = sorted(set(inst.loc[(inst["scan_id"] == sid) & inst["class"].isin(THREAT_CLASSES), "class"])) \
            if not inst.empty else []
        items.append({"image": image, "mask": mask,
                      "title": f"{sid} · {row['wagon_type']} · {', '.join(cls) or 'clean'}"})
    return items


def _get(d: Any, path: str) -> Any:
    for key in path.split("."):
        d = d.get(key) if isinstance(d, dict) else None
    return d


def _is_range(v: Any) -> bool:
    return isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, (int, float)) for x in v)


def realism(arc: Archive, n_scans: int) -> tuple[pd.DataFrame | None, str]:
    """Realism statistics of up to ``n_scans`` scans against the real-scanner targets.

    Each statistic's median over the scans is compared with the real scanner's range (a per-band statistic,
    band by band).

    Returns:
        ``(table, note)``: the table is ``None`` when the statistics function or the targets are missing, and
        the note says why.
    """
    fn, targets = realism_function(), read_realism_targets()
    if fn is None or targets is None:
        return None, ("Realism statistics are not available in this build "
                      f"({'cargoscan.synth.realism' if fn is None else 'realism_targets.json'} missing).")
    stats = [fn(load_scan(arc, sid)[0]) for sid in arc.scans["scan_id"].tolist()[:n_scans]]
    rows = []
    for label, stat_path, target_path, bands_path in REALISM_PAIRS:
        target, bands = _get(targets, target_path), _get(targets, bands_path) if bands_path else None
        values = [_get(st, stat_path) for st in stats]
        if target is None or not stats or all(v is None for v in values):
            continue
        # a per-band statistic is a list per scan: one row per band, missing bands (None) ignored
        per_band = bands is not None
        v = np.array([[np.nan if x is None else x for x in (val or [])] if per_band else
                      (np.nan if val is None else val) for val in values], dtype=float)
        columns = list(zip(v.T, target, bands)) if per_band else [(v, target, None)]
        for col, rng, band in columns:
            if not np.isfinite(col).any():
                continue
            med = float(np.nanmedian(col))
            within = rng[0] <= med <= rng[1] if _is_range(rng) else None
            rows.append({"statistic": label + (f", A {band[0]:g}–{band[1]:g}" if band else ""),
                         "synthetic median": f"{med:.4g}",
                         "synthetic p5–p95": "{:.4g} – {:.4g}".format(*np.nanpercentile(col, [5, 95])),
                         "real scanner": f"{rng[0]:.4g} – {rng[1]:.4g}" if _is_range(rng) else str(rng),
                         "within": {True: "yes", False: "NO", None: "—"}[within]})
    note = f"{len(stats)} scans measured against: {targets.get('source', 'the packaged targets')}."
    return pd.DataFrame(rows), note


# --- texture: the load as the real scanner's loads look (issue #17's gates) ----------------------------------

def _texture_doc(arc: Archive, n_scans: int) -> dict[str, Any] | None:
    """The archive's texture measurement: the synthesiser's ``realism.json`` when it wrote one, else measured
    on up to ``n_scans`` scans (an imported real archive is measured the same way, labels-free)."""
    try:
        from cargoscan.synth.realism import REALISM_FILE, aggregate_texture, scan_texture, texture_gates
    except ImportError:
        return None
    path = arc.root / REALISM_FILE
    if path.exists():
        import json

        return json.loads(path.read_text(encoding="utf-8"))
    ids = arc.scans["scan_id"].tolist()[:n_scans]
    stats = aggregate_texture(scan_texture(load_scan(arc, sid)[0]) for sid in ids)
    return {"texture": stats, "gates": texture_gates(stats), "n_measured": len(ids)}


def texture(arc: Archive, n_scans: int) -> tuple[pd.DataFrame | None, str]:
    """One row per texture gate: the real scanner's value, the archive's, the allowed range and the verdict."""
    doc = _texture_doc(arc, n_scans)
    if doc is None:
        return None, "Texture statistics are not available in this build (cargoscan.synth.realism missing)."
    rows = [{"gate": g["gate"], "real scanner": f"{g['real']:.3g}",
             "this archive": "—" if g["synthetic"] is None else f"{g['synthetic']:.3g}",
             "allowed": "{:.3g} – {:.3g}".format(*g["allowed"]), "within": "yes" if g["passed"] else "NO"}
            for g in doc["gates"]]
    passed = sum(g["passed"] for g in doc["gates"])
    note = (f"{passed} of {len(doc['gates'])} texture gates within the real scanner's tolerance; "
            f"{doc['texture']['n_patches']} patches of 64 px from {doc.get('n_measured', '?')} scans "
            f"({doc.get('measured_on', 'every scan measured')}).")
    return pd.DataFrame(rows), note


def texture_crops(arc: Archive, n_scans: int, per_band: int = 5) -> plt.Figure | None:
    """Crops of the load (64 px patches of A_high, as the gates measure them), one row per band of patch-mean A,
    each row titled with the real scanner's statistics for that band; None without patches or targets."""
    try:
        from cargoscan.synth.realism import attenuation_high, band_bounds, band_of, load_patches, load_targets
    except ImportError:
        return None
    bands = load_targets()["texture"]["bands"]
    found: dict[str, list[np.ndarray]] = {b: [] for b in bands}
    flat = arc.scans[arc.scans["wagon_type"] == "flat"] if "wagon_type" in arc.scans else arc.scans
    for sid in (flat if len(flat) else arc.scans)["scan_id"].tolist()[:n_scans]:
        image = load_scan(arc, sid)[0]
        here: dict[str, list[np.ndarray]] = {b: [] for b in bands}
        for q in load_patches(attenuation_high(image)):
            band = band_of(float(q.mean()), bands)
            if band:
                here[band].append(q)
        for band, qs in here.items():   # one crop a scan and band (its middle one), so a row spans several loads
            if qs and len(found[band]) < per_band:
                found[band].append(qs[len(qs) // 2])
    if not any(found.values()):
        return None
    fig, axes = plt.subplots(len(bands), per_band, figsize=(1.6 * per_band, 1.9 * len(bands)), squeeze=False)
    for row, (band, real) in zip(axes, bands.items()):
        lo, hi = band_bounds(band)
        for k, ax in enumerate(row):
            ax.set_axis_off()
            if k < len(found[band]):   # one grey scale per band, air white, so the rows compare
                ax.imshow(found[band][k], cmap="gray_r", vmin=lo - 2.0, vmax=hi + 2.0)
        row[0].set_title(f"A {band}: real std {real['std_A']:.2f}, |∇A| p90 {real['grad_p90']:.2f}",
                         loc="left", fontsize=8)
    fig.suptitle("Load crops of this archive, by band of patch-mean A", fontsize=9)
    fig.tight_layout()
    return fig
