"""Shared fixtures: a tiny synthetic archive made by the real generator (session-scoped, ~10 s)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cargoscan.synth.config import ConsistParams, GeometryParams, SynthParams

#: Reduced resolution (1/3 rows, 1/4 columns) so the whole fixture renders in seconds; geometry stays physical.
TINY_GEOMETRY = GeometryParams(rows=240, row_pitch_mm=13.8, column_scale=0.25)


def tiny_params(n: int = 6, seed: int = 7, **over) -> SynthParams:
    """Small, fast synth parameters (every wagon kind appears within a few scans at this seed)."""
    p = SynthParams(n=n, seed=seed, workers=1, previews=1, geometry=TINY_GEOMETRY,
                    train=ConsistParams(wagons_per_train=(3, 3)))
    return dataclasses.replace(p, **over)


@pytest.fixture(scope="session")
def tiny_archive(tmp_path_factory) -> Path:
    """A 6-scan archive (scans, sidecars, labels, tables, one preview) written by ``cargoscan.synth``."""
    from cargoscan.synth.generator import generate

    root = tmp_path_factory.mktemp("archive") / "raw"
    generate(tiny_params(), root, show_progress=False)
    return root


@pytest.fixture(scope="session")
def tiny_trains_archive(tmp_path_factory) -> Path:
    """A 6-scan archive of three 2-wagon trains (enough trains for train/val/test splits), by ``cargoscan.synth``."""
    from cargoscan.synth.generator import generate

    root = tmp_path_factory.mktemp("archive3") / "raw"
    generate(tiny_params(seed=11, train=ConsistParams(wagons_per_train=(2, 2))), root, show_progress=False)
    return root
