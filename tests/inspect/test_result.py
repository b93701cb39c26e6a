"""The decision rule: fail-closed as a property of check outcomes, and the contract-B document."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from cargoscan.inspect.config import DEFAULT_REQUIRED_CHECKS
from cargoscan.inspect.result import (CLEAR, SUSPICIOUS, Check, Inspection, RiskArea, decide, failed, flagged,
                                      passed, reason)

names = st.sampled_from(list(DEFAULT_REQUIRED_CHECKS) + ["extra", "inspection"])
statuses = st.sampled_from(["passed", "flagged", "failed", "advisory", "skipped", ""])
checks = st.builds(lambda n, s, codes: Check(n, s, tuple(reason(c) for c in codes)), names, statuses,
                   st.lists(st.sampled_from(["THREAT_DRUGS", "MASS_MISMATCH", "ANALYSIS_FAILED_ERROR"]), max_size=2))
required = st.lists(names, unique=True, max_size=6).map(tuple)


@given(st.lists(checks, max_size=12), required)
def test_clear_only_when_every_required_check_ran_and_every_check_passed(outcomes, req):
    d = decide(outcomes, req)
    all_ran_and_passed = all(c.status in ("passed", "advisory") for c in outcomes) \
        and set(req) <= {c.name for c in outcomes}
    assert (d.decision == CLEAR) == all_ran_and_passed
    assert d.suspicious == (d.decision == SUSPICIOUS)
    if not d.complete:
        assert d.suspicious                     # incomplete is always suspicious
    if d.suspicious:
        assert d.reasons                        # and never without a reason


@given(st.lists(checks, max_size=8))
def test_any_failed_check_makes_the_analysis_incomplete(outcomes):
    d = decide(outcomes + [failed("model", "MODEL", "hash")], ())
    assert d.suspicious and not d.complete
    assert any(r.code == "ANALYSIS_FAILED_MODEL" and r.text.startswith("анализ не выполнен: ") for r in d.reasons)


def test_missing_required_check_is_incomplete():
    d = decide([passed("scan")], ("scan", "model"))
    assert d.decision == SUSPICIOUS and not d.complete
    assert d.reasons[0].code == "ANALYSIS_FAILED_CHECK_MISSING"


def test_an_advisory_flag_is_shown_but_does_not_decide():
    ref = Check("references", "advisory", (reason("REFERENCE_MISMATCH", "сходство 0.31"),))
    d = decide([passed("scan"), ref], ("scan", "references"))
    assert d.decision == CLEAR and d.complete and not d.reasons
    assert decide([passed("scan"), ref, flagged("mass", reason("MASS_MISMATCH", "x"))], ()).suspicious


def test_flagged_is_suspicious_but_complete():
    d = decide([passed("scan"), flagged("segmentation", reason("THREAT_DRUGS", "зона 1"))], ("scan", "segmentation"))
    assert d.suspicious and d.complete and d.reasons[0].text.endswith("(зона 1)")


def test_inspection_serialises_to_contract_b():
    area = RiskArea(1, "drugs", 0.9, [1, 2, 3, 4], [0.0, 0.1, 0.2, 0.3], 0.4, "CSQU3054383")
    insp = Inspection("32701RF06202502181747029", SUSPICIOUS, True, True, [reason("THREAT_DRUGS", "x")], [area])
    doc = json.loads(insp.to_json())
    for key in ("schema_version", "scan_id", "decision", "suspicious", "complete", "reasons", "risk_areas", "cargo",
                "material", "mass", "references", "provenance", "declaration", "inspected_at"):
        assert key in doc
    assert doc["risk_areas"][0]["class"] == "drugs" and "cls" not in doc["risk_areas"][0]
    assert "наркотические" in doc["reasons"][0]["text"]
