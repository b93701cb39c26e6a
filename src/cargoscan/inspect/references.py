"""The reference library: typical images per cargo category, as embeddings from the model's encoder.

``cargoscan references`` (a DVC stage) runs the exported model over the training split of the archive and keeps,
per scan, the L2-normalised encoder embedding (tile-averaged, see :mod:`cargoscan.inspect.tiling`) with its true
category (``truth.csv``). An inspection compares the scan's embedding with the library by cosine similarity:
its similarity to the declared category is the mean of the ``k`` nearest references of that category, and the
conclusion lists the nearest references overall.

Files (``data/references/``): ``library.npz`` (``embeddings`` float32 (N, D), ``scan_ids``, ``categories``) and
``library.json`` (model name/version/sha256, counts per category, ``library_sha256`` of the npz). The engine
refuses a library whose npz does not match its hash, whose embeddings are not finite, or that is not bound to the
loaded model's artifact hash (one without a binding included: nothing says which model it describes).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


@dataclass
class ReferenceLibrary:
    embeddings: np.ndarray   # (N, D) unit vectors
    scan_ids: np.ndarray     # (N,) str
    categories: np.ndarray   # (N,) str
    info: dict[str, Any]

    @classmethod
    def load(cls, directory: str | Path) -> "ReferenceLibrary":
        """Read and verify a library (raises ``ValueError`` naming what is wrong)."""
        from cargoscan.models.artifact import sha256_file

        directory = Path(directory)
        info = json.loads((directory / "library.json").read_text(encoding="utf-8"))
        expected = info.get("library_sha256") if isinstance(info, dict) else None
        if not expected:
            raise ValueError("library.json без library_sha256: библиотеку нечем проверить — пересоберите её "
                             "(cargoscan references)")
        actual = sha256_file(directory / "library.npz")
        if actual != expected:
            raise ValueError(f"library.npz изменён: хэш {actual[:12]}… ≠ {expected[:12]}…")
        with np.load(directory / "library.npz", allow_pickle=False) as data:
            lib = cls(data["embeddings"].astype(np.float32), data["scan_ids"].astype(str),
                      data["categories"].astype(str), info)
        n = len(lib.scan_ids)
        if lib.embeddings.ndim != 2 or lib.embeddings.shape[0] != n or len(lib.categories) != n:
            raise ValueError(f"library.npz: формы не согласованы ({lib.embeddings.shape}, {n}, {len(lib.categories)})")
        if not np.isfinite(lib.embeddings).all():
            raise ValueError(f"library.npz: {int((~np.isfinite(lib.embeddings)).sum())} значений NaN/inf")
        return lib

    @property
    def model_sha256(self) -> str | None:
        """The artifact hash of the model that built the library (its binding), or None."""
        model = self.info.get("model") if isinstance(self.info, dict) else None
        return model.get("sha256") if isinstance(model, dict) else None

    def save(self, directory: str | Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        from cargoscan.models.artifact import sha256_file

        np.savez(directory / "library.npz", embeddings=self.embeddings.astype(np.float32),
                 scan_ids=self.scan_ids.astype(str), categories=self.categories.astype(str))
        self.info = {**self.info, "library_sha256": sha256_file(directory / "library.npz")}
        (directory / "library.json").write_text(json.dumps(self.info, ensure_ascii=False, indent=1, sort_keys=True)
                                                + "\n", encoding="utf-8")

    def compare(self, embedding: np.ndarray, declared: list[str], top_k: int = 3) -> dict[str, Any]:
        """Similarity of one embedding to the declared categories' references, and the nearest references."""
        e = normalise(embedding[None])[0]
        sims = self.embeddings @ e
        order = np.argsort(-sims)
        nearest = [{"scan_id": str(self.scan_ids[i]), "category": str(self.categories[i]),
                    "similarity": round(float(sims[i]), 4)} for i in order[:top_k]]
        per_cat: dict[str, float] = {}
        for c in np.unique(self.categories):
            s = np.sort(sims[self.categories == c])[::-1][:top_k]
            per_cat[str(c)] = round(float(s.mean()), 4)
        known = [c for c in declared if c in per_cat]
        sim_declared = max((per_cat[c] for c in known), default=None)
        best = max(per_cat, key=per_cat.get) if per_cat else None
        return {"declared_categories": declared, "similarity_declared": sim_declared,
                "nearest_category": best, "similarity_by_category": per_cat, "nearest": nearest,
                "library_size": int(len(self.scan_ids))}


def normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-8)


def training_scan_ids(root: Path, split_file: str | None) -> list[str] | None:
    """Scan IDs of the training split: a CSV (``scan_id``, ``split``) or a text list; None = all scans."""
    if not split_file:
        return None
    path = Path(split_file)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".csv":
        import csv

        rows = list(csv.DictReader(text.splitlines()))
        return [r["scan_id"] for r in rows if r.get("split", "train") == "train"]
    if path.suffix == ".json":
        doc = json.loads(text)
        return list(doc["train"] if isinstance(doc, dict) else doc)
    return [line.strip() for line in text.splitlines() if line.strip()]


def dominant_categories(rows: list[dict[str, str]]) -> dict[str, str]:
    """Per scan, the true category carrying the most net mass (a wagon of two containers looks like its
    heavier load); units with no category (empty) are left out."""
    best: dict[str, tuple[float, str]] = {}
    for r in rows:
        if not r.get("true_category"):
            continue
        kg = float(r.get("true_net_weight_kg") or 0)
        if r["scan_id"] not in best or kg > best[r["scan_id"]][0]:
            best[r["scan_id"]] = (kg, r["true_category"])
    return {sid: cat for sid, (_, cat) in best.items()}


def build_library(root: str | Path, inspector, split_file: str | None = None, per_category: int = 50
                  ) -> ReferenceLibrary:
    """Embed the training scans of an archive, up to ``per_category`` per category (the dominant true category
    from truth.csv, see :func:`dominant_categories`).

    Args:
        root: the archive (``data/raw``).
        inspector: a loaded :class:`cargoscan.inspect.engine.Inspector`.
        split_file: the training split (see :func:`training_scan_ids`); None = every scan.
        per_category: cap per category, taken in scan-ID order (deterministic).
    """
    from cargoscan.archive import ArchivePaths, read_table
    from cargoscan.logs import progress

    paths = ArchivePaths(Path(root))
    truth = dominant_categories(read_table(paths.table("truth.csv")))
    wanted = training_scan_ids(paths.root, split_file)
    ids = [s for s in paths.scan_ids() if s in truth and (wanted is None or s in set(wanted))]
    chosen: dict[str, list[str]] = {}
    for s in ids:
        lst = chosen.setdefault(truth[s], [])
        if len(lst) < per_category:
            lst.append(s)
    todo = [s for lst in chosen.values() for s in lst]
    embs, keep = [], []
    with progress() as bar:
        task = bar.add_task("references", total=len(todo))
        for s in todo:
            try:
                embs.append(inspector.embed(paths.scan_tiff(s)))
                keep.append(s)
            except Exception as exc:  # a bad scan is left out of the library, never stops it
                log.warning("%s: left out of the reference library (%s)", s, exc)
            bar.advance(task)
    emb = normalise(np.stack(embs)) if embs else np.zeros((0, 1), np.float32)
    cats = np.array([truth[s] for s in keep], dtype=str)
    counts = {str(c): int((cats == c).sum()) for c in np.unique(cats)}
    info = {"model": inspector.model_info(), "counts": counts, "split_file": split_file or None,
            "per_category": per_category}
    return ReferenceLibrary(emb, np.array(keep, dtype=str), cats, info)
