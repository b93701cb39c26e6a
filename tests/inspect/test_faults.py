"""Fault injection on the stub model: a small sample of every fault kind, none cleared.

The subjects are the stub scans of conftest (garments behind container walls); each is paired with a declaration
built from the engine's own estimates, and the unfaulted pairing must clear, or the faults prove nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.archive import read_scan, read_sidecar
from cargoscan.inspect import InspectParams, faults
from cargoscan.inspect import fault_harness as fh
from tests.inspect.conftest import fake_decomposer, make_scan


@pytest.fixture(scope="module")
def subjects(tmp_path_factory, artifact, library):
    root = tmp_path_factory.mktemp("fault-subjects")
    inspector = fh.MemoInspector.load(artifact, InspectParams(references_dir=str(library)),
                                      decomposer_factory=fake_decomposer)
    out = []
    for i, lam in ((11, 50.0), (12, 60.0)):
        p = make_scan(root, i, lam=lam, seed=100 + i)
        out.append(fh.prepare(inspector, read_scan(p), read_sidecar(p.with_suffix(".json"))))
    return inspector, out


def test_agreeing_declarations_clear_the_unfaulted_scans(subjects):
    _, subs = subjects
    assert all(s.clean_clear for s in subs), [s.clean_reasons for s in subs]
    assert all(s.loaded_kg > 1000 for s in subs)
    assert {r["hs_code"][:2] for s in subs for r in s.rows} == {"61"}   # the stub says garments


@pytest.mark.parametrize("kind", sorted(faults.IMAGE_FAULTS))
def test_image_faults_never_clear(subjects, kind):
    inspector, subs = subjects
    for k, s in enumerate(subs):
        for seed in range(3):
            o = fh.run_image_fault(inspector, s, kind, np.random.default_rng(seed * 10 + k))
            assert not o.cleared, (kind, seed, o)


@pytest.mark.parametrize("kind", sorted(faults.DECLARATION_FAULTS))
def test_declaration_faults_never_clear(subjects, kind):
    inspector, subs = subjects
    for k, s in enumerate(subs):
        for seed in range(3):
            o = fh.run_declaration_fault(inspector, s, kind, np.random.default_rng(seed * 10 + k))
            assert not o.cleared, (kind, seed, o)
            assert o.reason in ("DECLARATION_INVALID", "MASS_MISMATCH", "UNKNOWN_HS_CODE"), o


def test_truncated_files_never_clear(subjects, tmp_path):
    inspector, subs = subjects
    for seed in range(4):
        o = fh.run_file_fault(inspector, subs[0], "truncated", np.random.default_rng(seed), tmp_path / str(seed))
        assert not o.cleared and o.reason.startswith("ANALYSIS_FAILED"), o


@pytest.mark.parametrize("kind", sorted(faults.ARTIFACT_FAULTS))
def test_artifact_faults_never_clear(subjects, artifact, library, kind):
    inspector, subs = subjects
    for seed in range(2):
        out = fh.run_artifact_fault(artifact, library, inspector.params, subs[:1], kind, np.random.default_rng(seed),
                                    decomposer_factory=fake_decomposer)
        assert out and not any(o.cleared for o in out), (kind, seed, out)
        assert all(o.reason.startswith("ANALYSIS_FAILED") for o in out), out


def test_a_mirrored_train_is_not_a_fault(subjects):
    """A train that passed the other way: columns reversed, still a valid scan of a clean wagon."""
    inspector, subs = subjects
    o = fh.run_image_fault(inspector, subs[0], "flipped_horizontal", np.random.default_rng(0))
    assert o.cleared, o


def test_downsample_keeps_the_physics(tmp_path):
    """Block means of a scan at 5 mm: half the size, twice the pitch, still a plausible scan (quantum noise)."""
    from cargoscan.archive.validity import scan_problems

    p = make_scan(tmp_path, 1, width=1040, height=320, pitch=5.0, cargo=(80, 40, 720, 180))
    image, meta = read_scan(p), read_sidecar(p.with_suffix(".json"))
    small, meta2 = fh.downsample(image, meta, 2)
    assert small.shape == (2, 160, 520)
    assert meta2["pixel_pitch_mm"] == {"row": 10.0, "column": 10.0}
    assert abs(float(small.mean()) - float(image.mean())) < 0.01 * float(image.mean())
    assert scan_problems(small, (10.0, 10.0)) == []


def test_plan_spreads_faults_over_kinds_and_subjects():
    p = fh.plan(["a", "b", "c"], 4, 24, seed=1)
    assert len(p) == 24
    assert {k for k, _, _ in p} == {"a", "b", "c"}
    assert {i for _, i, _ in p} == {0, 1, 2, 3}
    assert fh.summarise([fh.Outcome("a", "x", True, True, ""), fh.Outcome("a", "y", False, False, "R")])["a"] == \
        {"n": 2, "cleared": 1, "n_on_clear_subjects": 1, "reasons": {"": 1, "R": 1}}


def test_memo_inspector_decides_as_the_plain_one(subjects, artifact, library):
    """The harness's caching changes no decision: the same subject, clean and under a wrong declaration."""
    from cargoscan.inspect import Inspector

    memo, subs = subjects
    plain = Inspector.load(artifact, memo.params, decomposer_factory=fake_decomposer)
    s = subs[0]
    for rows in (s.rows, faults.decl_understated([dict(r) for r in s.rows], np.random.default_rng(0))):
        a, b = plain.inspect_array(s.image, s.meta, rows), memo.inspect_array(s.image, s.meta, rows)
        assert (a.decision, [r.code for r in a.reasons]) == (b.decision, [r.code for r in b.reasons])
        assert a.mass["net_kg"] == b.mass["net_kg"]


def test_a_suspicious_wagon_is_reported_as_an_unclear_subject(tmp_path, subjects):
    """A wagon with drugs stays suspicious under the agreeing declaration: the harness says so, with the reason."""
    inspector, _ = subjects
    p = make_scan(tmp_path, 13, lam=50.0, drugs=(200, 40, 240, 80), seed=113)
    s = fh.prepare(inspector, read_scan(p), read_sidecar(p.with_suffix(".json")))
    assert not s.clean_clear
    assert any(r.startswith("THREAT_DRUGS") for r in s.clean_reasons), s.clean_reasons
