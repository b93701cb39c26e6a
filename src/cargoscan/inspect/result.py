"""The inspection result (contract B) and the decision rule.

The decision is a *pure function of the check outcomes* (:func:`decide`): every stage of the engine reports a
:class:`Check` — passed, flagged (it ran and found something) or failed (it did not run to the end) — and
nothing else can make a wagon «без подозрения». Fail-closed is therefore a property of one small function,
which the property test in ``tests/inspect/test_result.py`` checks over arbitrary outcomes.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

SCHEMA_VERSION = "1.0"
SUSPICIOUS = "Контроль ИДК, под подозрением"
CLEAR = "Контроль ИДК, без подозрения"
FAILED_PREFIX = "ANALYSIS_FAILED_"
FAILED_TEXT = "анализ не выполнен: "

Status = Literal["passed", "flagged", "failed", "advisory"]

#: Reason codes and their Russian texts. ``{}`` fields are filled by :func:`reason`.
REASON_TEXTS: dict[str, str] = {
    "THREAT_DRUGS": "обнаружена зона, похожая на наркотические средства ({detail})",
    "THREAT_WEAPON": "обнаружена зона, похожая на оружие ({detail})",
    "THREAT_CIGARETTES": "обнаружена зона, похожая на сигареты ({detail})",
    "THREAT_HIDDEN_COMPARTMENT": "обнаружен возможный тайник в конструкции ({detail})",
    "THREAT_VOID": "обнаружена пустота, не соответствующая грузу ({detail})",
    "THREAT_SCORE": "оценка угрозы по вагону выше порога ({detail})",
    "CARGO_MISMATCH": "изображение груза не соответствует заявленному товару ({detail})",
    "NO_DECLARATION": "нет предварительной информации по вагону/контейнеру ({detail})",
    "UNKNOWN_HS_CODE": "код ТН ВЭД не сопоставлен с категорией груза ({detail})",
    "DECLARATION_INVALID": "недопустимые значения в предварительной информации ({detail})",
    "MASS_MISMATCH": "оценка массы груза расходится с заявленным весом ({detail})",
    "DENSITY_MISMATCH": "плотность или класс материала не соответствуют заявленному товару ({detail})",
    "REFERENCE_MISMATCH": "снимок не похож на типовые снимки заявленной категории ({detail})",
    "ANALYSIS_FAILED_SCAN": FAILED_TEXT + "снимок повреждён или не читается ({detail})",
    "ANALYSIS_FAILED_INPUT": FAILED_TEXT + "недопустимые данные снимка ({detail})",
    "ANALYSIS_FAILED_SIDECAR": FAILED_TEXT + "нет или повреждено описание снимка ({detail})",
    "ANALYSIS_FAILED_MODEL": FAILED_TEXT + "модель не загружена или не прошла проверку ({detail})",
    "ANALYSIS_FAILED_TIMEOUT": FAILED_TEXT + "превышено время анализа ({detail})",
    "ANALYSIS_FAILED_PHYSICS": FAILED_TEXT + "не выполнен расчёт материала и массы ({detail})",
    "ANALYSIS_FAILED_REFERENCES": FAILED_TEXT + "нет библиотеки типовых снимков ({detail})",
    "ANALYSIS_FAILED_CHECK_MISSING": FAILED_TEXT + "проверки не выполнялись ({detail})",
    "ANALYSIS_FAILED_ERROR": FAILED_TEXT + "внутренняя ошибка ({detail})",
}


@dataclass(frozen=True)
class Reason:
    """One reason for the decision: a machine code and its Russian text."""

    code: str
    text: str


def reason(code: str, detail: str = "") -> Reason:
    """A :class:`Reason` with the Russian text of ``code`` and ``detail`` filled in."""
    template = REASON_TEXTS.get(code, code + " ({detail})")
    text = template.format(detail=detail) if detail else template.replace(" ({detail})", "")
    return Reason(code, text)


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    ``failed`` means the check did not run to the end (its reasons carry ``ANALYSIS_FAILED_*`` codes);
    ``flagged`` means it ran and found a reason for suspicion; ``advisory`` means it ran and found one, but no
    operating point governs it yet (``InspectParams.advisory_checks``): shown on the conclusion, not deciding.
    """

    name: str
    status: Status
    reasons: tuple[Reason, ...] = ()


def passed(name: str) -> Check:
    return Check(name, "passed")


def flagged(name: str, *reasons: Reason) -> Check:
    return Check(name, "flagged", tuple(reasons))


def failed(name: str, code: str, detail: str) -> Check:
    if not code.startswith(FAILED_PREFIX):
        code = FAILED_PREFIX + code
    return Check(name, "failed", (reason(code, detail),))


@dataclass(frozen=True)
class Decision:
    decision: str
    suspicious: bool
    complete: bool
    reasons: tuple[Reason, ...]


def decide(checks: list[Check] | tuple[Check, ...], required: tuple[str, ...]) -> Decision:
    """The decision as a pure function of the check outcomes.

    «без подозрения» iff every required check is present and every check given passed (or is advisory). Anything else — a missing check, a failed one, a flagged one, an unknown status — is
    «под подозрением»; ``complete`` is false when a required check is missing or any check failed.
    """
    present = {c.name for c in checks}
    missing = [name for name in required if name not in present]
    complete = not missing
    clear = complete
    reasons: list[Reason] = []
    for c in checks:
        if c.status in ("passed", "advisory"):
            continue
        clear = False
        if c.status != "flagged":   # "failed" or anything unexpected counts as not run
            complete = False
        reasons.extend(c.reasons or (reason("ANALYSIS_FAILED_ERROR", f"{c.name}: {c.status}"),))
    if missing:                     # after the cause, one line naming the checks that never ran
        reasons.append(reason("ANALYSIS_FAILED_CHECK_MISSING", ", ".join(missing)))
    if not reasons and not clear:   # defensive: never a suspicious decision without a reason
        reasons.append(reason("ANALYSIS_FAILED_ERROR", "нет результата проверок"))
    suspicious = not clear
    return Decision(SUSPICIOUS if suspicious else CLEAR, suspicious, complete, tuple(reasons))


@dataclass
class RiskArea:
    """One risk area: a connected component of a threat class."""

    id: int
    cls: str
    score: float
    bbox_px: list[int]            # [x0, y0, x1, y1] in scan pixels, exclusive ends
    bbox_m: list[float]           # [x0, y0, x1, y1]: metres along the scan from its first column; height above
                                  # the rail (y0 lower edge, y1 upper edge; the image's bottom row lies
                                  # InspectParams.image_bottom_m above the rail)
    area_m2: float
    unit: str | None              # container number, or the wagon number when it holds no containers
    class_ru: str = ""
    material: str | None = None   # dual-energy material class of the area
    material_ru: str | None = None
    lambda_g_cm2: float | None = None
    probability: float | None = None   # calibrated: the wagon score restricted to this area, through the calibrator

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["class"] = d.pop("cls")
        return d


@dataclass
class Inspection:
    """A JSON-serialisable inspection result (contract B)."""

    scan_id: str
    decision: str
    suspicious: bool
    complete: bool
    reasons: list[Reason]
    risk_areas: list[RiskArea] = field(default_factory=list)
    cargo: dict[str, Any] = field(default_factory=dict)
    material: dict[str, Any] = field(default_factory=dict)
    mass: dict[str, Any] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)
    wagon_score: dict[str, Any] = field(default_factory=dict)   # per-wagon threat score at the model's operating point
    provenance: dict[str, Any] = field(default_factory=dict)
    declaration: dict[str, Any] | None = None
    inspected_at: str = ""
    checks: list[Check] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)    # the scan's sidecar (post, device, train, ...)
    schema_version: str = SCHEMA_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The contract-B document (plus ``checks`` and ``meta`` for the conclusion and the audit)."""
        return {
            "schema_version": self.schema_version,
            "scan_id": self.scan_id,
            "decision": self.decision,
            "suspicious": self.suspicious,
            "complete": self.complete,
            "reasons": [dataclasses.asdict(r) for r in self.reasons],
            "risk_areas": [a.to_dict() for a in self.risk_areas],
            "cargo": self.cargo,
            "material": self.material,
            "mass": self.mass,
            "references": self.references,
            "wagon_score": self.wagon_score,
            "provenance": self.provenance,
            "declaration": self.declaration,
            "inspected_at": self.inspected_at,
            "checks": [{"name": c.name, "status": c.status, "reasons": [dataclasses.asdict(r) for r in c.reasons]}
                       for c in self.checks],
            "meta": self.meta,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1, sort_keys=True, default=_default) + "\n"


def _default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")
