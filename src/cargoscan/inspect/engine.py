"""The inspection engine: ``Inspector.load(artifact_dir)`` then ``inspector.inspect(scan_path, declaration)``.

Every stage reports a :class:`~cargoscan.inspect.result.Check`; the decision is :func:`~cargoscan.inspect.result.
decide` over them. Stages that cannot run (unreadable scan, model not loaded or with a wrong hash, physics
unavailable, no reference library, an exception, the time limit) report ``failed`` and the wagon is
«под подозрением» with «анализ не выполнен: …». The whole inspection runs in a worker thread under a wall-clock
limit; stages also check a cooperative deadline, so a timed-out worker stops soon after.

Here: loading and verifying the artifact, the input checks, segmentation and the wagon's threat decision, the one
decision rule. The checks against the declaration (each unit's category, material and mass, references) are
:class:`~cargoscan.inspect.declared.DeclaredChecks`, mixed in.

No Lightning, DVC or MLflow here (a test imports this package in a fresh interpreter and checks); torch only
with the ``torch`` backend.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import numpy as np

import cargoscan
from cargoscan.archive.io import scan_pitch
from cargoscan.archive import ArchiveError, read_scan, read_sidecar
from cargoscan.archive.classes import load_classes
from cargoscan.archive.validity import scan_problems
from cargoscan.inspect import declarations as decl
from cargoscan.inspect import findings, material, result
from cargoscan.inspect.declared import Context, DeclaredChecks
from cargoscan.inspect.config import MANDATORY_CHECKS, InspectParams, thresholds_version
from cargoscan.inspect.fusion import CategoryFusion
from cargoscan.inspect.mass_calibration import MassCalibration
from cargoscan.inspect.references import ReferenceLibrary
from cargoscan.inspect.result import Check, Inspection, failed, flagged, passed, reason
from cargoscan.inspect.runtime import create_backend
from cargoscan.inspect.tiling import Deadline, infer_tiled
from cargoscan.models.artifact import ArtifactConfig, ArtifactError, artifact_sha256, sha256_file
from cargoscan.scoring import Calibrator
from cargoscan.scoring import wagon as W

log = logging.getLogger(__name__)

MODEL_FILES = {"onnx": "model.onnx", "torch": "model.safetensors"}


class Inspector(DeclaredChecks):
    """A loaded model plus everything an inspection needs. Build with :meth:`load`."""

    def __init__(self, artifact_dir: Path, params: InspectParams, cfg: ArtifactConfig | None, backend,
                 load_error: str | None, model_sha: str | None,
                 decomposer_factory: Callable[[dict], Any] | None = None,
                 references: ReferenceLibrary | None = None, references_error: str | None = None):
        self.artifact_dir, self.params, self.cfg, self.backend = artifact_dir, params, cfg, backend
        self.load_error, self.model_sha = load_error, model_sha     # model_sha: the artifact hash
        # The checks no parameter file can drop: without them nothing says the scan and the model are sound.
        self.required = tuple(dict.fromkeys((*MANDATORY_CHECKS, *params.required_checks)))
        self.decomposer_factory = decomposer_factory or material.default_decomposer
        self.references, self.references_error = references, references_error
        self.categories = decl.load_categories(params.hs_categories)
        self.thresholds_version = thresholds_version(params)
        names_ru = {c.name: c.ru for c in load_classes()}
        self.classes_ru = names_ru
        threat_names = {c.name for c in load_classes() if c.threat}
        self.threat = np.array([c in threat_names for c in cfg.classes]) if cfg else np.zeros(0, bool)
        # The wagon score's calibration, sealed in config.json with the threshold (None: an older artifact).
        self.calibrator = Calibrator.from_dict(cfg.calibration) if cfg and cfg.calibration else None
        # The declaration checks' joint operating point (scoring.budget), sealed at export; {}: the physical rules.
        self.decision_thresholds = dict(((cfg.extra or {}).get("decision") or {}).get("thresholds") or {}) \
            if cfg else {}
        # The cargo category fused from the head and the load's physics (inspect.fusion), fitted and sealed at
        # export; None: the head alone (an older artifact). A sealed record that does not read fails the check.
        self.fusion, self.fusion_error = None, None
        record = (cfg.extra or {}).get("category_fusion") if cfg else None
        if record:
            try:
                self.fusion = CategoryFusion.from_dict(record)
            except (KeyError, TypeError, ValueError) as exc:
                self.fusion_error = f"{type(exc).__name__}: {exc}"
        # The mass read at the dark level, calibrated per category (inspect.mass_calibration), sealed at export;
        # None: such a mass is a lower bound. A sealed record that does not read fails the mass check.
        self.mass_calibration, self.mass_calibration_error = None, None
        record = (cfg.extra or {}).get("mass_calibration") if cfg else None
        if record:
            try:
                self.mass_calibration = MassCalibration.from_dict(record)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                self.mass_calibration_error = f"{type(exc).__name__}: {exc}"

    @classmethod
    def load(cls, artifact_dir: str | Path, params: InspectParams | None = None,
             decomposer_factory: Callable[[dict], Any] | None = None) -> "Inspector":
        """Load and verify a model artifact. Never raises: a failure is kept and every inspection fails closed.

        Args:
            artifact_dir: the export directory (config.json, model.onnx, model.safetensors).
            params: the ``inspect:`` parameters (defaults when None).
            decomposer_factory: sidecar → (λ, Z_eff) decomposer; defaults to ``cargoscan.physics.decompose``.
        """
        params = params or InspectParams()
        artifact_dir = Path(artifact_dir)
        cfg, backend, error, sha = None, None, None, None
        try:
            cfg, sha = verify_artifact(artifact_dir, params)
            backend = create_backend(params.backend, artifact_dir, cfg, params)
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.error("model %s not loaded: %s", artifact_dir, error)
            backend = None
        refs, refs_error = load_references(params, sha)
        return cls(artifact_dir, params, cfg, backend, error, sha, decomposer_factory, refs, refs_error)

    def model_info(self) -> dict[str, Any]:
        cfg = self.cfg
        return {"name": cfg.name if cfg else None, "version": cfg.version if cfg else None,
                "sha256": self.model_sha, "config_sha256": cfg.config_sha256 if cfg else None,
                "files_sha256": dict(cfg.sha256) if cfg else {}, "backend": self.params.backend,
                "arch": f"{cfg.arch}/{cfg.encoder}" if cfg else None}

    def references_info(self) -> dict[str, Any]:
        refs = self.references
        return {"sha256": refs.info.get("library_sha256") if refs else None,
                "model_sha256": refs.model_sha256 if refs else None, "size": len(refs.scan_ids) if refs else 0}

    # -- public API ---------------------------------------------------------------------------------------
    def inspect(self, scan_path: str | Path, declaration: list[dict[str, str]] | None = None) -> Inspection:
        """Inspect one scan file (its sidecar beside it) against declaration rows; never raises.

        Args:
            scan_path: ``<scan_id>.tiff``; the sidecar ``<scan_id>.json`` sits beside it.
            declaration: declaration rows (all of ``declarations.csv`` or those of a decl.json); the rows of this
                wagon and its containers are picked out. None: no preliminary information.
        """
        return self._guarded(Path(scan_path).stem, lambda dl: self._inspect_file(Path(scan_path), declaration, dl))

    def inspect_array(self, image: Any, meta: dict[str, Any], declaration: list[dict[str, str]] | None = None
                      ) -> Inspection:
        """Inspect an in-memory scan ((2, H, W) uint16) with its sidecar dict; never raises."""
        from cargoscan.archive.validate import validation_errors

        scan_id = str(meta.get("scan_id", "unknown")) if isinstance(meta, dict) else "unknown"
        errors = validation_errors("sidecar", meta)
        if errors:
            return self._failed_result(scan_id, [failed("scan", "ANALYSIS_FAILED_SIDECAR", "; ".join(errors[:3]))],
                                       {}, None)
        return self._guarded(scan_id, lambda dl: self._inspect_checked(image, meta, None, declaration, dl))

    def embed(self, scan_path: str | Path) -> np.ndarray:
        """The scan's encoder embedding (for the reference library). Raises on any failure."""
        if self.backend is None:
            raise RuntimeError(f"model not loaded: {self.load_error}")
        path = Path(scan_path)
        image, meta = read_scan(path), read_sidecar(path.with_suffix(".json"))
        tiled = self._segment(image, meta, Deadline(self.params.timeout_s))
        return tiled.embedding

    def threat_score(self, scan_path: str | Path) -> float:
        """The scan's raw wagon score (:func:`cargoscan.scoring.wagon.wagon_score`), computed exactly as
        :meth:`inspect` computes it; export calibrates the operating point on these. Raises on any failure."""
        if self.backend is None:
            raise RuntimeError(f"model not loaded: {self.load_error}")
        path = Path(scan_path)
        image, meta = read_scan(path), read_sidecar(path.with_suffix(".json"))
        return self._segment(image, meta, Deadline(self.params.timeout_s)).wagon_score

    # -- internals ----------------------------------------------------------------------------------------
    def _guarded(self, scan_id: str, work: Callable[[Deadline], Inspection]) -> Inspection:
        """Run ``work`` in a thread under the time limit; any exception or timeout fails closed."""
        deadline = Deadline(self.params.timeout_s)
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["out"] = work(deadline)
            except TimeoutError as exc:
                box["err"] = ("ANALYSIS_FAILED_TIMEOUT", str(exc))
            except BaseException as exc:  # noqa: BLE001 — fail closed on anything
                log.exception("%s: inspection failed", scan_id)
                box["err"] = ("ANALYSIS_FAILED_ERROR", f"{type(exc).__name__}: {exc}")

        t = threading.Thread(target=target, name=f"inspect-{scan_id}", daemon=True)
        t.start()
        # A small grace lets a cooperative deadline report itself; past it the worker is abandoned (daemon thread).
        t.join(self.params.timeout_s + 0.25 if self.params.timeout_s > 0 else None)
        if "out" in box and not t.is_alive():
            return box["out"]
        code, detail = box.get("err", ("ANALYSIS_FAILED_TIMEOUT", f"превышен лимит {self.params.timeout_s:g} с"))
        return self._failed_result(scan_id, [failed("inspection", code, detail)], {}, None)

    def _failed_result(self, scan_id: str, checks: list[Check], prov: dict[str, Any], meta: dict | None
                       ) -> Inspection:
        d = result.decide(checks, self.required)
        return Inspection(scan_id=scan_id, decision=d.decision, suspicious=d.suspicious, complete=d.complete,
                          reasons=list(d.reasons), provenance=self._provenance(prov), checks=checks,
                          inspected_at=_now(), meta=meta or {})

    def _provenance(self, extra: dict[str, Any]) -> dict[str, Any]:
        cfg = self.cfg
        tv = f"{cfg.thresholds_version if cfg else '?'}/{self.thresholds_version}"
        return {"scan_sha256": None, "model": self.model_info(), "references": self.references_info(),
                "thresholds_version": tv,
                "software_version": cargoscan.__version__, "timings_ms": {}, **extra}

    def _inspect_file(self, path: Path, declaration, deadline: Deadline) -> Inspection:
        scan_id = path.stem
        t0 = time.perf_counter()
        prov: dict[str, Any] = {}
        try:
            prov["scan_sha256"] = sha256_file(path, check=lambda: deadline.check("чтение снимка"))
        except OSError as exc:
            return self._failed_result(scan_id, [failed("scan", "ANALYSIS_FAILED_SCAN", f"{exc}")], prov, None)
        try:
            image = read_scan(path)
        except ArchiveError as exc:
            return self._failed_result(scan_id, [failed("scan", "ANALYSIS_FAILED_SCAN", exc.reason)], prov, None)
        try:
            meta = read_sidecar(path.with_suffix(".json"))
        except ArchiveError as exc:
            return self._failed_result(scan_id, [failed("scan", "ANALYSIS_FAILED_SIDECAR", exc.reason)], prov, None)
        if meta["scan_id"] != scan_id:
            return self._failed_result(scan_id, [failed("scan", "ANALYSIS_FAILED_SIDECAR",
                                                        f"scan_id {meta['scan_id']} ≠ имени файла")], prov, meta)
        prov["timings_ms"] = {"read": round((time.perf_counter() - t0) * 1000, 1)}
        return self._inspect_checked(image, meta, prov, declaration, deadline)

    def _inspect_checked(self, image: Any, meta: dict[str, Any], prov: dict[str, Any] | None, declaration,
                         deadline: Deadline) -> Inspection:
        """The inspection of a scan that reads: input checks, segmentation and the wagon's threat decision, the
        declaration's cargo category, material and mass, the reference library; then the one decision rule."""
        prov = dict(prov or {})
        timings = prov.setdefault("timings_ms", {})
        scan_id = str(meta.get("scan_id", "unknown")) if isinstance(meta, dict) else "unknown"
        problem = check_image(image)
        if problem:
            return self._failed_result(scan_id, [failed("scan", "ANALYSIS_FAILED_INPUT", problem)], prov, None)
        if prov.get("scan_sha256") is None:
            prov["scan_sha256"] = hashlib.sha256(np.ascontiguousarray(image).tobytes()).hexdigest()
        checks: list[Check] = [passed("scan"), self._validity(image, meta, deadline)]
        if checks[-1].status != "passed":      # an implausible scan: analysing it would only mislead
            return self._failed_result(scan_id, checks, prov, meta)
        if self.backend is None:
            checks.append(failed("model", "ANALYSIS_FAILED_MODEL", self.load_error or "модель не загружена"))
            return self._failed_result(scan_id, checks, prov, meta)
        checks.append(passed("model"))
        out = Inspection(scan_id=scan_id, decision="", suspicious=True, complete=False, reasons=[], meta=meta)

        t = time.perf_counter()
        tiled = self._segment(image, meta, deadline)
        timings["segmentation"] = round((time.perf_counter() - t) * 1000, 1)
        pitch = scan_pitch(meta)
        units = findings.unit_spans(tiled.a_high, list(meta.get("container_numbers") or []), meta.get("wagon_number"))
        ctx = Context(out, image, meta, pitch, tiled, units, declaration or [], deadline, timings)
        # material before cargo: the fused category reads the load's physics
        for step in (self._threat_check, self._declaration_checks, self._material_checks, self._cargo_check,
                     self._reference_checks):
            checks += step(ctx)

        # Checks no operating point governs yet are shown, not deciding (InspectParams.advisory_checks).
        checks = [dataclasses.replace(c, status="advisory") if c.status == "flagged"
                  and c.name in self.params.advisory_checks else c for c in checks]
        d = result.decide(checks, self.required)
        out.decision, out.suspicious, out.complete, out.reasons = d.decision, d.suspicious, d.complete, list(d.reasons)
        out.checks = checks
        out.provenance = self._provenance(prov)
        out.inspected_at = _now()
        return out

    def _threat_check(self, ctx: Context) -> list[Check]:
        """The wagon's threat decision and its risk areas (into ``ctx.out``; their id map into ``ctx.id_map``).

        The threat decision is the wagon's: its score (cargoscan.scoring.wagon) against the operating point chosen
        on a validation archive for a target false-alarm rate. Risk areas explain an alarm; they do not raise one
        on their own (a speckle of "hidden compartment" on a wall must not send a wagon red).
        """
        cfg, out, tiled = self.cfg, ctx.out, ctx.tiled
        wagon = W.decide(tiled.wagon_score, float(cfg.wagon_threshold), self.calibrator)
        out.wagon_score = {**wagon.to_dict(), "top_k": int(cfg.extra.get("score_top_k", W.DEFAULT_TOP_K)),
                           "calibrated": self.calibrator is not None}

        def areas_of(min_px: int, min_m2: float):
            return findings.risk_areas(tiled.labels, tiled.score, cfg.classes, self.threat, ctx.image.shape[1:],
                                       ctx.pitch, cfg.pitch_mm, ctx.units, min_px, min_m2, self.classes_ru,
                                       self.params.image_bottom_m)

        areas, id_map = areas_of(self.params.min_area_px, self.params.min_area_m2)
        if wagon.over and not areas:     # an alarm with no area past the size filters: show what raised it
            areas, id_map = areas_of(1, 0.0)
        if not wagon.over:
            out.wagon_score["areas_below_threshold"] = len(areas)
            areas, id_map = [], np.zeros_like(id_map)
        findings.calibrate_areas(areas, id_map, tiled.score, out.wagon_score["top_k"], self.calibrator)
        out.risk_areas = areas
        reasons = []
        for name in dict.fromkeys(a.cls for a in areas):
            mine = [a for a in areas if a.cls == name]
            detail = (f"зоны № {', '.join(str(a.id) for a in mine)}; вероятность до "
                      f"{max(a.probability for a in mine):.2f}")
            reasons.append(reason(f"THREAT_{name.upper()}", detail))
        if wagon.over and not areas:
            reasons.append(reason("THREAT_SCORE", f"оценка вагона {wagon.score:.2f} ≥ порога "
                                                  f"{wagon.threshold:.2f} (вероятность {wagon.probability:.2f})"))
        ctx.id_map = id_map
        return [flagged("segmentation", *reasons) if reasons else passed("segmentation")]

    def _validity(self, image: np.ndarray, meta: dict[str, Any], deadline: Deadline) -> Check:
        """The input-validity check (:mod:`cargoscan.archive.validity`): a scan that reads but is not physical."""
        pitch = scan_pitch(meta)
        problems = scan_problems(image, pitch, self.params.validity, check=lambda: deadline.check("проверка снимка"))
        if problems:
            return failed("validity", "ANALYSIS_FAILED_INPUT", "; ".join(p.text for p in problems[:3]))
        return passed("validity")

    def _segment(self, image: np.ndarray, meta: dict[str, Any], deadline: Deadline):
        cfg = self.cfg
        tile = self.params.tile or cfg.tile
        overlap = cfg.overlap if self.params.overlap < 0 else self.params.overlap
        pitch = scan_pitch(meta)
        return infer_tiled(image, pitch, cfg, self.backend, tile, overlap, self.params.batch_size, deadline,
                           self.threat)


def verify_artifact(artifact_dir: Path, params: InspectParams) -> tuple[ArtifactConfig, str]:
    """The artifact's config and its hash, once config.json, the backend's weight file and the pinned hash (if
    any) all check out. Raises with a message naming what does not."""
    cfg = ArtifactConfig.load(artifact_dir)
    cfg.verify()
    fname = MODEL_FILES.get(params.backend)
    if fname is None:
        raise ValueError(f"неизвестный вычислитель {params.backend!r}")
    path = artifact_dir / fname
    if not path.exists():
        raise FileNotFoundError(f"нет файла {fname}")
    expected = cfg.sha256.get(fname)
    if not expected:
        raise ArtifactError(f"в config.json нет sha256 для {fname}")
    actual = sha256_file(path)
    if actual != expected:
        raise ArtifactError(f"хэш {fname} не совпадает: {actual[:12]}… ≠ {expected[:12]}…")
    sha = artifact_sha256(cfg.config_sha256, cfg.sha256)
    if params.artifact_sha256 and params.artifact_sha256 != sha:
        raise ArtifactError(f"хэш артефакта {sha[:12]}… ≠ заданного inspect.artifact_sha256 "
                            f"{params.artifact_sha256[:12]}…")
    return cfg, sha


def load_references(params: InspectParams, model_sha: str | None) -> tuple[ReferenceLibrary | None, str | None]:
    """The verified reference library bound to the loaded model, or None and why not."""
    if not params.references_dir:
        return None, "библиотека не задана (inspect.references_dir)"
    try:
        refs = ReferenceLibrary.load(params.references_dir)
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
    if not refs.model_sha256:
        return None, "библиотека не привязана к модели (нет model.sha256 в library.json)"
    if model_sha and refs.model_sha256 != model_sha:
        return None, f"библиотека построена другой моделью ({refs.model_sha256[:12]}… ≠ {model_sha[:12]}…)"
    return refs, None


def check_image(image: Any) -> str | None:
    """Why an in-memory scan cannot be analysed, or None. (Files are checked by ``read_scan`` first.)"""
    if not isinstance(image, np.ndarray):
        return f"ожидался массив numpy, получен {type(image).__name__}"
    if image.ndim != 3 or image.shape[0] != 2:
        return f"форма {image.shape}, ожидалась (2, H, W): страницы высокой и низкой энергии"
    if image.dtype != np.uint16:
        if np.issubdtype(image.dtype, np.floating) and np.isnan(image).any():
            return "в снимке есть NaN"
        return f"тип {image.dtype}, ожидался uint16"
    if min(image.shape[1:]) < 8:
        return f"снимок слишком мал: {image.shape[1:]}"
    if int(image.max()) == int(image.min()):
        return "снимок постоянен (пустой кадр)"
    return None


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
