"""The fault-injection harness: clean scans paired with agreeing declarations, then faulted one way at a time.

A fault only proves something if nothing *else* makes the wagon suspicious. So each clean scan (a *subject*) is
first inspected unfaulted, and its declaration is built from the engine's own estimates: the category the model
predicts (or another whose density, material and reference similarity the estimates also fit), an HS code of
that category, and the net weight the engine measured for it. The unfaulted subject with that declaration is
inspected again: how many of those clear («без подозрения») is reported, because a fault on a subject that is
suspicious anyway proves little. Then each fault changes one thing (:mod:`cargoscan.inspect.faults`) and the
result must not be «без подозрения».

Speed (10,000 faults on 2 cores): subjects are downsampled wagons (:func:`downsample`, block means: the quantum
noise keeps its law, the pitch grows), one :class:`MemoInspector` per process remembers the segmentation of the
last images it saw (a declaration fault re-inspects the same image), and the gate stops most image faults before
the model runs.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cargoscan.archive import write_scan
from cargoscan.inspect import faults
from cargoscan.inspect.declarations import load_categories
from cargoscan.inspect.engine import Inspector
from cargoscan.inspect.result import Inspection

log = logging.getLogger(__name__)

CLEAR = "Контроль ИДК, без подозрения"


class MemoDecomposer:
    """A decomposer that remembers its last few inversions (keyed by the input bytes): the same image under many
    declarations inverts the same pixels."""

    def __init__(self, inner, size: int = 4):
        self.inner, self.size, self.memo = inner, size, OrderedDict()

    def invert(self, a_high, a_low):
        a_high, a_low = np.ascontiguousarray(a_high), np.ascontiguousarray(a_low)
        key = hashlib.sha1(a_high.tobytes() + a_low.tobytes()).hexdigest()
        if key not in self.memo:
            self.memo[key] = self.inner.invert(a_high, a_low)
            while len(self.memo) > self.size:
                self.memo.popitem(last=False)
        return self.memo[key]

    def __getattr__(self, name):
        return getattr(self.inner, name)


class MemoInspector(Inspector):
    """An :class:`Inspector` that remembers the segmentation and the (λ, Z_eff) inversion of its last few images
    (keyed by their bytes and pitch): the harness inspects one image under many declarations. The decisions are
    those of the plain :class:`Inspector`; only repeated work is skipped."""

    memo_size = 4

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        factory, cache = self.decomposer_factory, {}

        def memo_factory(meta):
            key = repr((meta.get("generator") or {}).get("scanner")) if isinstance(meta, dict) else ""
            if key not in cache:
                cache.clear()                 # one subject at a time
                cache[key] = MemoDecomposer(factory(meta))
            return cache[key]

        self.decomposer_factory = memo_factory

    def _segment(self, image, meta, deadline):
        key = (hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest(), repr(meta.get("pixel_pitch_mm")))
        memo: OrderedDict = self.__dict__.setdefault("_memo", OrderedDict())
        if key not in memo:
            memo[key] = super()._segment(image, meta, deadline)
            while len(memo) > self.memo_size:
                memo.popitem(last=False)
        memo.move_to_end(key)
        return memo[key]


def downsample(image: np.ndarray, meta: dict[str, Any], factor: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Block means over ``factor``×``factor`` pixels; the sidecar's pitch grows by the factor."""
    if factor <= 1:
        return image, meta
    _, h, w = image.shape
    h2, w2 = h // factor * factor, w // factor * factor
    x = image[:, :h2, :w2].astype(np.float32).reshape(2, h2 // factor, factor, w2 // factor, factor).mean((2, 4))
    p = meta["pixel_pitch_mm"]
    meta = {**meta, "pixel_pitch_mm": {"row": round(p["row"] * factor, 4), "column": round(p["column"] * factor, 4)}}
    return np.round(x).astype(np.uint16), meta


def hs_code(category: str) -> str:
    """A well-formed 4-digit HS code of a category (its first heading, padded)."""
    prefix = load_categories()[category].hs[0]
    return (prefix + "00")[:4] if len(prefix) < 4 else prefix[:4]


def declaration_rows(meta: dict[str, Any], category: str, net_kg: float) -> list[dict[str, str]]:
    """One row per container (the net weight split evenly), or one row for the wagon."""
    units = list(meta.get("container_numbers") or []) or [""]
    hs = "8609" if category == "empty" and units[0] else ("8606" if category == "empty" else hs_code(category))
    each = max(net_kg, 0.0) / len(units)
    return [{"pi_number": f"32701/010125/{i + 1:07d}", "train_number": str(meta.get("train_number", "")),
             "wagon_number": str(meta.get("wagon_number", "")), "container_number": c, "hs_code": hs,
             "goods_description": f"товар категории {category}", "packages_count": "0" if category == "empty" else "10",
             "packaging": "", "gross_weight_kg": f"{each * 1.05 + 1:.1f}", "net_weight_kg": f"{each:.1f}",
             "consignor": "ООО Отправитель", "consignee": "ТОО Получатель"} for i, c in enumerate(units)]


def category_fits(r: Inspection, category: str, params) -> bool:
    """Whether declaring ``category`` agrees with the engine's estimates in ``r`` (cargo, density, references)."""
    cat = load_categories()[category]
    cargo = r.cargo or {}
    probs = cargo.get("probabilities") or {}
    if category in probs and probs[category] <= params.category_max_declared_probability:
        return False        # the head all but rules the category out (the engine's cargo rule at evidence 1.0)
    rho = (r.material or {}).get("bulk_density_g_cm3")
    cls = ((r.material or {}).get("overall") or {}).get("class")
    if rho is None or not cat.density_g_cm3[0] <= rho <= cat.density_g_cm3[1] or cls not in cat.materials:
        return False
    if category == "empty":
        return True
    sims = (r.references or {}).get("similarity_by_category") or {}
    near = (r.references or {}).get("nearest_category")
    return category in sims and (sims[category] >= params.reference_min_similarity or near == category)


@dataclass
class Subject:
    """A clean scan prepared for faults: the image, its sidecar, the agreeing declaration and its own result."""

    scan_id: str
    image: np.ndarray
    meta: dict[str, Any]
    rows: list[dict[str, str]]
    loaded_kg: float
    clean_clear: bool
    clean_reasons: list[str] = field(default_factory=list)


def prepare(inspector: Inspector, image: np.ndarray, meta: dict[str, Any]) -> Subject:
    """Pair a clean scan with a declaration built from the engine's own estimates of it."""
    first = inspector.inspect_array(image, meta, declaration_rows(meta, "garments", 1000.0))
    mass = first.mass or {}
    loaded = max(0.0, float(mass.get("gross_in_beam_kg") or 0) - float(mass.get("structure_kg") or 0))
    pred = (first.cargo or {}).get("predicted")
    order = [pred] if pred in load_categories() else []
    sims = (first.references or {}).get("similarity_by_category") or {}
    order += sorted((c for c in load_categories() if c not in order), key=lambda c: -sims.get(c, -1.0))
    fits = [c for c in order if category_fits(first, c, inspector.params)]
    # the model may name a class the declarations table has no category for (e.g. "none" for a bare wagon)
    category = fits[0] if fits else (pred if pred in load_categories() else "garments")
    net = 0.0 if category == "empty" else loaded * (1 - load_categories()[category].packaging_fraction)
    rows = declaration_rows(meta, category, net)
    clean = inspector.inspect_array(image, meta, rows)
    return Subject(str(meta["scan_id"]), image, meta, rows, loaded, clean.decision == CLEAR,
                   [f"{x.code}: {x.text}" for x in clean.reasons])


@dataclass(frozen=True)
class Outcome:
    kind: str
    scan_id: str
    cleared: bool
    subject_clear: bool      # whether the unfaulted subject cleared (the fault is then the only cause)
    reason: str


def _outcome(kind: str, s: Subject, r: Inspection) -> Outcome:
    return Outcome(kind, s.scan_id, r.decision == CLEAR, s.clean_clear,
                   r.reasons[0].code if r.reasons else "")


def run_image_fault(inspector: Inspector, s: Subject, kind: str, rng: np.random.Generator) -> Outcome:
    fn = faults.IMAGE_FAULTS.get(kind) or faults.CONTROLS[kind]
    image, meta = fn(s.image.copy(), dict(s.meta), rng)
    return _outcome(kind, s, inspector.inspect_array(image, meta, s.rows))


def run_declaration_fault(inspector: Inspector, s: Subject, kind: str, rng: np.random.Generator) -> Outcome:
    rows = faults.DECLARATION_FAULTS[kind]([dict(r) for r in s.rows], rng)
    return _outcome(kind, s, inspector.inspect_array(s.image, s.meta, rows))


def run_file_fault(inspector: Inspector, s: Subject, kind: str, rng: np.random.Generator, tmp: Path) -> Outcome:
    """The scan written as a file with its sidecar, then cut (``truncated``)."""
    import json

    path = tmp / "scans" / f"{s.scan_id}.tiff"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_scan(path, s.image)
    path.with_suffix(".json").write_text(json.dumps(s.meta, ensure_ascii=False), encoding="utf-8")
    faults.truncate(path, rng)
    return _outcome(kind, s, inspector.inspect(path, s.rows))


def run_artifact_fault(artifact: Path, references: Path, params, subjects: list[Subject], kind: str,
                       rng: np.random.Generator, decomposer_factory=None) -> list[Outcome]:
    """The deployment's model and library copied, one fault applied to the copies, the subjects inspected."""
    with tempfile.TemporaryDirectory(prefix="fault-artifact-") as tmp:
        art, refs = Path(tmp) / "export", Path(tmp) / "references"
        shutil.copytree(artifact, art)
        shutil.copytree(references, refs)
        faults.ARTIFACT_FAULTS[kind](art, refs, rng)
        inspector = Inspector.load(art, replace(params, references_dir=str(refs)),
                                   decomposer_factory=decomposer_factory)
        return [_outcome(kind, s, inspector.inspect_array(s.image, s.meta, s.rows)) for s in subjects]


def plan(kinds: list[str], n_subjects: int, n_faults: int, seed: int) -> list[tuple[str, int, int]]:
    """(kind, subject index, seed) for ``n_faults`` faults spread evenly over kinds and subjects."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n_faults):
        kind = kinds[i % len(kinds)]
        out.append((kind, (i // len(kinds)) % n_subjects, int(rng.integers(0, 2**31))))
    return out


def eligible(kind: str, s: Subject) -> bool:
    """Whether a fault is a fault on this subject (an understated weight needs a loaded wagon)."""
    return s.loaded_kg >= faults.NEEDS_LOAD_KG.get(kind, 0.0)


def summarise(outcomes: list[Outcome]) -> dict[str, Any]:
    """Counts per kind: faults, how many cleared, how many of those on subjects that clear unfaulted."""
    by: dict[str, dict[str, Any]] = {}
    for o in outcomes:
        d = by.setdefault(o.kind, {"n": 0, "cleared": 0, "n_on_clear_subjects": 0, "reasons": {}})
        d["n"] += 1
        d["cleared"] += int(o.cleared)
        d["n_on_clear_subjects"] += int(o.subject_clear)
        d["reasons"][o.reason] = d["reasons"].get(o.reason, 0) + 1
    return by
