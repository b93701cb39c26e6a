"""The checks of a load against its declaration: the declaration itself, each unit's cargo category, the
material, density and mass, and the typical images of the declared categories.

:class:`DeclaredChecks` is the half of :class:`~cargoscan.inspect.engine.Inspector` that reads the declaration;
the engine mixes it in and runs its steps in order over one :class:`Context` (material before cargo: the fused
category reads the load's physics). It uses the inspector's ``cfg``, ``params``, ``categories``, ``fusion`` /
``fusion_error``, ``mass_calibration`` / ``mass_calibration_error``, ``decision_thresholds``,
``decomposer_factory``, ``threat`` and ``references`` / ``references_error``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from cargoscan.archive.records import declaration_problems
from cargoscan.inspect import declarations as decl
from cargoscan.inspect import material, units as U
from cargoscan.inspect.result import Check, Inspection, failed, flagged, passed, reason
from cargoscan.inspect.tiling import Deadline

LOAD_CLASSES = ("cargo",)       # besides the threat classes, what counts as load for the mass


@dataclass
class Context:
    """What the engine's checks share for one scan: each reads what earlier ones left and writes into ``out``."""

    out: Inspection
    image: np.ndarray
    meta: dict[str, Any]
    pitch: tuple[float, float]
    tiled: Any                     # inspect.tiling.TiledResult
    units: Any                     # findings.unit_spans
    declaration: list[dict[str, str]]
    deadline: Deadline
    timings: dict[str, float]
    id_map: np.ndarray | None = None          # risk areas' ids (the threat check)
    summary: dict[str, Any] | None = None     # the declaration's summary (the declaration check)
    declared: list[str] = field(default_factory=list)
    unit_list: list[U.Unit] = field(default_factory=list)   # each unit with its own rows (inspect.units)
    unit_blocks: dict[str, tuple[dict, dict]] = field(default_factory=dict)  # unit → its (mass, material)


class DeclaredChecks:
    """The declaration-side steps of an inspection (see the module docstring)."""

    def _declaration_checks(self, ctx: Context) -> list[Check]:
        """The declaration rows of this scan's wagon and containers (into ``ctx.out.declaration``)."""
        ctx.deadline.check("декларация")
        rows = decl.match_rows(ctx.meta, ctx.declaration)
        summary = decl.summarise(rows, self.categories)
        ctx.out.declaration = summary
        ctx.summary = summary
        ctx.declared = [c for c in (summary or {}).get("categories", []) if c]
        ctx.unit_list = U.split(ctx.units, rows, ctx.meta, self.categories)
        return [declaration_check(rows, summary, bool(ctx.declaration))]

    def _head(self, logits: np.ndarray) -> dict[str, float]:
        """The category head's probabilities from its logits, by category."""
        return dict(zip(self.cfg.categories, map(float, _softmax(logits))))

    def _category_probabilities(self, ctx: Context, unit: U.Unit) -> tuple[list[str], np.ndarray, dict[str, Any]]:
        """(categories, probabilities, what gave them) for one unit: the head over the unit's columns, fused with
        the unit's own physics when the artifact seals a fusion and the material check measured the unit."""
        head = _softmax(ctx.tiled.span_logits(*unit.span))
        # the head's probabilities as an inspection records them: what export fitted the fusion on
        head_probs = {c: round(float(p), 4) for c, p in zip(self.cfg.categories, head)}
        mass, mat = ctx.unit_blocks.get(unit.name, (None, None))
        if self.fusion is None or not mat or not mass:
            return list(self.cfg.categories), head, {"method": "head"}
        fused = self.fusion.probabilities(U.record(head_probs, mat, mass, ctx.meta))
        return list(fused), np.array(list(fused.values())), {"method": "fusion", "head_probabilities": head_probs}

    def _unit_cargo(self, ctx: Context, unit: U.Unit) -> dict[str, Any]:
        """One unit's category against its own declared categories (and the forms their HS codes may take:
        declarations.hs_alternatives), with the evidence against them.

        A unit declared empty carries no goods to compare: whether anything is in it is the mass check's question
        (the physics of the load, not its look), so its P(empty) is recorded and no cargo evidence is raised."""
        categories, probs, how = self._category_probabilities(ctx, unit)
        k = int(np.argmax(probs))
        pred, declared = categories[k], list(unit.declared)
        accepted = list(unit.accepted or unit.declared)       # the declared codes' categories and their forms
        comparable = [c for c in accepted if c in categories]
        p_declared = float(sum(probs[categories.index(c)] for c in set(comparable))) if comparable else None
        judged = p_declared is not None and U.judges_goods(accepted)
        return {"unit": unit.name, "predicted": pred,
                "predicted_ru": self.categories[pred].ru if pred in self.categories else pred,
                "confidence": round(float(probs[k]), 4), "declared": declared,
                "declared_ru": [self.categories[c].ru for c in declared], "accepted": accepted,
                "probabilities": {c: round(float(p), 4) for c, p in zip(categories, probs)},
                "match": (pred in accepted) if accepted else None, **how,
                "declared_probability": None if p_declared is None else round(p_declared, 4),
                "evidence": round(cargo_evidence(p_declared, self.params.category_max_declared_probability), 4)
                if judged else None}

    def _cargo_check(self, ctx: Context) -> list[Check]:
        """Each unit's cargo category against its own declared ones (into ``ctx.out.cargo``; inspect.units): the
        head's over the unit's columns, or its fusion with the unit's physics when the artifact seals one.

        Evidence against a declaration: how improbable the unit's declared categories are (scoring.budget), so an
        uncertain image is never a mismatch, only a declared category all but ruled out. The wagon's evidence is
        its strongest unit's; the wagon-level fields are that unit's (the first unit's when none is declared),
        with the wagon's declared categories, and ``units`` lists every unit.
        """
        if self.fusion_error:
            return [failed("cargo", "ANALYSIS_FAILED_MODEL", f"слияние категорий: {self.fusion_error}")]
        per_unit = [self._unit_cargo(ctx, u) for u in ctx.unit_list]
        if not per_unit:
            return [failed("cargo", "ANALYSIS_FAILED_MODEL", "нет ни одной единицы груза")]
        judged = [u for u in per_unit if u["evidence"] is not None]
        top = max(judged, key=lambda u: u["evidence"]) if judged else per_unit[0]
        matches = [u["match"] for u in per_unit if u["match"] is not None]
        ctx.out.cargo = {**top, "declared": ctx.declared, "declared_ru": [self.categories[c].ru for c in ctx.declared],
                         "accepted": list(dict.fromkeys(c for u in per_unit for c in u["accepted"])),
                         "match": all(matches) if matches else None, "units": per_unit}
        if top["evidence"] is not None and top["evidence"] >= self.decision_thresholds.get("cargo", 1.0):
            where = f"{top['unit']}: " if len(per_unit) > 1 else ""
            return [flagged("cargo", reason("CARGO_MISMATCH", f"{where}модель: «{top['predicted_ru']}» "
                                            f"({top['confidence']:.2f}); заявленное ({', '.join(top['declared_ru'])}"
                                            f") — {top['declared_probability']:.2f}"))]
        return [passed("cargo")]

    def _material_checks(self, ctx: Context) -> list[Check]:
        """Material, density and mass of the load (into ``out.mass``, ``out.material`` and the risk areas); the
        load's unit spans into ``out.material["units"]``; the time taken into the timings."""
        ctx.deadline.check("материал")
        t = time.perf_counter()
        checks = self._material(ctx)
        ctx.timings["material"] = round((time.perf_counter() - t) * 1000, 1)
        cfg, units = self.cfg, ctx.units
        ctx.out.material.setdefault("units", {"method": units.method, "spans_m": [
            [round(s0 * cfg.pitch_mm[1] / 1000, 2), round(s1 * cfg.pitch_mm[1] / 1000, 2)] for s0, s1 in units.spans],
            "names": list(units.names)})
        return checks

    def _material(self, ctx: Context) -> list[Check]:
        cfg, out, tiled, deadline = self.cfg, ctx.out, ctx.tiled, ctx.deadline
        try:
            decomposer = self.decomposer_factory(ctx.meta)
        except Exception as exc:
            return [failed("material", "ANALYSIS_FAILED_PHYSICS", f"{type(exc).__name__}: {exc}"),
                    failed("mass", "ANALYSIS_FAILED_PHYSICS", "нет разложения (λ, Z_eff)")]
        cargo = np.isin(tiled.labels, [i for i, c in enumerate(cfg.classes) if c in LOAD_CLASSES])
        threats = np.isin(tiled.labels, np.flatnonzero(self.threat))
        load, weighed = cargo | threats, material.mass_area(cargo, threats)   # the mass: the cargo's column hull
        lam, zeff = material.invert_map(decomposer, tiled.a_high, tiled.a_low, load,
                                        max_pixels=self.params.material_max_pixels,
                                        check=lambda: deadline.check("материал"))
        # λ for mass and density from the scan at native pitch, PSF deconvolved in T (material.native_maps).
        lam_m, dark, psf = material.native_maps(decomposer, ctx.image, ctx.meta, ctx.pitch, cfg.pitch_mm, weighed,
                                                max_pixels=self.params.material_max_pixels,
                                                check=lambda: deadline.check("материал"))
        judged = U.forms(ctx.summary, self._head(tiled.label_logits))   # the forms the declared codes take here
        category, pf = U.declared_category(judged, self.categories), U.packaging_fraction(judged, self.categories)
        mass, mat, flags = material.mass_and_density(lam, zeff, tiled.a_high, load, cfg.pitch_mm, ctx.meta,
                                                     self.params, decomposer, ctx.summary, category, pf, dark,
                                                     psf, lam_m, self.decision_thresholds, weighed,
                                                     self.mass_calibration)
        deadline.check("материал")
        mat["judged_as"] = list(judged)
        unit_flags = self._unit_material(ctx, (lam, zeff, load, weighed, dark, psf, lam_m), decomposer, mass, mat)
        id_map = ctx.id_map
        slices = ndimage.find_objects(id_map)   # each area's box: per-area work stays local
        for a in out.risk_areas:
            deadline.check("материал зон")
            sl = slices[a.id - 1]
            m = material.region_material(decomposer, lam[sl], zeff[sl], id_map[sl] == a.id, tiled.a_high[sl])
            a.material, a.lambda_g_cm2 = m.get("class"), m.get("lambda_mean_g_cm2")
            a.material_ru = m.get("class_ru")
        out.mass, out.material = mass, mat
        mflags = [reason(c, d) for c, d in flags if c == "MASS_MISMATCH"] if unit_flags is None else unit_flags
        dflags = [reason(c, d) for c, d in flags if c == "DENSITY_MISMATCH"]
        if self.mass_calibration_error:       # a sealed calibration that does not read: the mass is not judged
            mass_check = failed("mass", "ANALYSIS_FAILED_MODEL", f"калибровка массы: {self.mass_calibration_error}")
        else:
            mass_check = flagged("mass", *mflags) if mflags else passed("mass")
        return [flagged("material", *dflags) if dflags else passed("material"), mass_check]

    def _unit_material(self, ctx: Context, maps: tuple, decomposer, mass: dict, mat: dict) -> list | None:
        """Each unit's own mass and material (into ``mass["units"]``, ``material["per_unit"]`` and
        ``ctx.unit_blocks``): the wagon's maps restricted to the unit's columns, against its own declaration.
        A wagon of one unit is that unit.

        The mass check of a wagon of several units is decided per unit — each against its own declared weight,
        so an understated container is not diluted by its honest neighbour — when every declaration row of the
        wagon belongs to one of its units; the wagon's ``mass.evidence`` is then its strongest unit's (the
        whole wagon's is kept as ``wagon_evidence``) and the MASS_MISMATCH reasons (returned) name the unit.
        Otherwise (rows that name no container of the scan; a single unit) the wagon's own decides: None. The
        density check stays the wagon's."""
        lam, zeff, load, weighed, dark, psf, lam_m = maps
        pitch = self.cfg.pitch_mm
        decide = {"mass": self.decision_thresholds.get("mass", 1.0), "material": math.inf}
        per_mass, per_mat, flags = [], [], []
        for u in ctx.unit_list:
            ctx.deadline.check("материал единиц")
            span_m = [round(u.span[0] * pitch[1] / 1000, 2), round(u.span[1] * pitch[1] / 1000, 2)]
            if len(ctx.unit_list) == 1:
                m_u, mat_u = dict(mass), {k: v for k, v in mat.items() if k != "units"}
            else:
                cols = u.columns(load.shape)
                where = load & cols
                judged = U.forms(u.summary, self._head(ctx.tiled.span_logits(*u.span)))
                m_u, mat_u, f_u = material.mass_and_density(
                    lam, zeff, ctx.tiled.a_high, where, pitch, ctx.meta, self.params, decomposer, u.summary,
                    U.declared_category(judged, self.categories), U.packaging_fraction(judged, self.categories),
                    dark, psf, lam_m, decide, weighed & cols, self.mass_calibration)
                mat_u["judged_as"] = list(judged)
                mat_u.pop("density_flag", None)          # the density check is the wagon's
                flags += [reason(c, f"{u.name}: {d}") for c, d in f_u if c == "MASS_MISMATCH"]
            mat_u["units"] = {"method": ctx.units.method, "spans_m": [span_m], "names": [u.name]}
            per_mass.append({"unit": u.name, **m_u})
            per_mat.append({"unit": u.name, **mat_u})
            ctx.unit_blocks[u.name] = (m_u, mat_u)
        mass["units"], mat["per_unit"] = per_mass, per_mat
        rows = (ctx.summary or {}).get("rows") or []
        if len(ctx.unit_list) < 2 or sum(len(u.rows) for u in ctx.unit_list) != len(rows):
            return None
        mass.update(wagon_evidence=mass.get("evidence"), evidence=material.strongest_evidence(per_mass),
                    flag=bool(flags), decided_by="units")
        return flags

    def _reference_checks(self, ctx: Context) -> list[Check]:
        """The load against the typical images of its declared categories (into ``ctx.out.references``)."""
        out, tiled, declared = ctx.out, ctx.tiled, ctx.declared
        if self.references is None:
            if "references" in self.params.required_checks:
                return [failed("references", "ANALYSIS_FAILED_REFERENCES", self.references_error or "нет")]
            return []
        goods = [c for c in declared if c != U.EMPTY]     # an empty unit has no typical image to compare
        out.references = self.references.compare(tiled.embedding, goods, self.params.reference_top_k)
        sim, best = out.references["similarity_declared"], out.references["nearest_category"]
        if goods and sim is not None and sim < self.params.reference_min_similarity and best not in goods:
            return [flagged("references", reason("REFERENCE_MISMATCH",
                                                 f"сходство {sim:.2f}, ближе категория «{best}»"))]
        if goods and sim is None:
            return [failed("references", "ANALYSIS_FAILED_REFERENCES",
                           f"нет типовых снимков категории {', '.join(goods)}")]
        return [passed("references")]


def declaration_check(rows: list[dict[str, str]], summary: dict[str, Any] | None, given: bool) -> Check:
    """The declaration's own check: present, every row valid as data, every HS code known."""
    if summary is None:
        detail = "строки декларации не относятся к этому вагону" if given else "декларация не передана"
        return flagged("declaration", reason("NO_DECLARATION", detail))
    reasons = []
    invalid = [f"{r.get('pi_number', '?')}: {'; '.join(p)}" for r in rows if (p := declaration_problems(r))]
    if invalid:
        reasons.append(reason("DECLARATION_INVALID", " | ".join(invalid[:3])))
    unknown = [h for h, c in zip(summary["hs_codes"], summary["categories"]) if not c]
    if unknown:
        reasons.append(reason("UNKNOWN_HS_CODE", ", ".join(map(str, unknown))))
    return flagged("declaration", *reasons) if reasons else passed("declaration")


def cargo_evidence(p_declared: float, p_rule: float) -> float:
    """Evidence against a declared category (:mod:`cargoscan.scoring.budget`): log P(declared) in units of
    log ``p_rule``, so 1.0 where the head gives the declared category exactly ``p_rule``, more as it rules it out."""
    return math.log(max(p_declared, 1e-12)) / math.log(p_rule)


def _softmax(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64)
    e = np.exp(x - x.max())
    return e / e.sum()
