import numpy as np
import pytest

pytest.importorskip("cargoscan.synth.materials")

from cargoscan.archive.classes import class_names  # noqa: E402
from cargoscan.tip.library import create_threat, list_threats  # noqa: E402

#: Plausible masses (kg) per threat: a few kilograms of firearm up to a pallet of cigarettes.
MASS_KG = {"drugs": (5, 400), "cigarettes": (20, 2500), "weapon": (0.3, 15), "hidden_compartment": (1, 2000)}


@pytest.mark.parametrize("name", list_threats())
@pytest.mark.parametrize("pitch", [(5.0, 5.0), (8.0, 12.0)])
def test_threat_patches_are_consistent(name, pitch):
    rng = np.random.default_rng(0)
    patch = create_threat(name, rng, pitch)
    h, w = patch.shape
    assert all(p.shape == (h, w) and (p >= 0).all() for p in patch.paths.values())
    assert patch.footprint.any()
    for inst in patch.instances:
        assert inst.cls in class_names()
        assert inst.mask.any()
        lo, hi = MASS_KG[inst.cls]
        assert lo <= inst.mass_kg <= hi, (inst.cls, inst.mass_kg)
    # Every contraband instance is drawn as material where its mask says.
    for inst in patch.instances:
        if inst.cls != "hidden_compartment":
            assert (patch.footprint[inst.mask]).all()


def test_sizes_follow_the_pitch():
    a = create_threat("rifle", np.random.default_rng(3), (5.0, 5.0))
    b = create_threat("rifle", np.random.default_rng(3), (10.0, 10.0))
    assert abs(a.shape[1] / b.shape[1] - 2) < 0.1
    assert abs(a.instances[0].mass_kg - b.instances[0].mass_kg) / a.instances[0].mass_kg < 0.25


def test_unknown_threat():
    with pytest.raises(KeyError, match="known"):
        create_threat("bazooka", np.random.default_rng(0), (5.0, 5.0))
