import numpy as np
import pytest

from cargoscan.archive.classes import class_names
from cargoscan.physics import materials  # noqa: F401  (the patches are built from it; fail, never skip)
from cargoscan.tip.library import create_threat, list_threats

#: Plausible masses (kg) per threat: one pistol up to a pallet of cigarettes.
MASS_KG = {
    "drugs": (1, 1200),
    "cigarettes": (10, 2500),
    "weapon": (0.3, 60),  # one pistol up to a consignment of 12 rifles
    "hidden_compartment": (1, 2000),
    "void": (0, 0),
}


@pytest.mark.parametrize("name", list_threats())
@pytest.mark.parametrize("pitch", [(5.0, 5.0), (8.0, 12.0)])
def test_threat_patches_are_consistent(name, pitch):
    rng = np.random.default_rng(0)
    patch = create_threat(name, rng, pitch)
    h, w = patch.shape
    assert all(p.shape == (h, w) and (p >= 0).all() for p in patch.paths.values())
    assert patch.footprint.any()
    if patch.removal is not None:
        assert patch.removal.shape == (h, w) and ((patch.removal >= 0) & (patch.removal <= 1)).all()
    for inst in patch.instances:
        assert inst.cls in class_names()
        assert inst.mask.any()
        assert inst.mask.shape == (h, w)
        lo, hi = MASS_KG[inst.cls]
        assert lo <= inst.mass_kg <= hi, (inst.cls, inst.mass_kg)
    # Every contraband instance is drawn as material where its mask says.
    for inst in patch.instances:
        if inst.cls not in ("hidden_compartment", "void"):
            assert (patch.footprint[inst.mask]).all()
    # The labels cover everything the patch changes.
    assert (np.any([i.mask for i in patch.instances], axis=0) | ~patch.footprint).all()


def test_sizes_follow_the_pitch():
    a = create_threat("rifle", np.random.default_rng(3), (5.0, 5.0))
    b = create_threat("rifle", np.random.default_rng(3), (10.0, 10.0))
    assert abs(a.shape[1] / b.shape[1] - 2) < 0.1
    assert abs(a.instances[0].mass_kg - b.instances[0].mass_kg) / a.instances[0].mass_kg < 0.25


def test_unknown_threat():
    with pytest.raises(KeyError, match="known"):
        create_threat("bazooka", np.random.default_rng(0), (5.0, 5.0))


NEW_SITES = {
    "false_roof": "false_roof",
    "underframe_box": "underframe",
    "structure_compartment": "underframe",
    "hollowed_goods": "hollowed_goods",
    "bulk_void": "hollowed_goods",
    "ammunition": "in_cargo",
    "grenade": "in_cargo",
}


def test_library_follows_concealment_practice():
    from cargoscan.tip.placement import SITES

    assert set(NEW_SITES) <= set(list_threats())
    for name in list_threats():
        patch = create_threat(name, np.random.default_rng(1), (5.0, 5.0))
        assert patch.site in SITES
        assert patch.site == NEW_SITES.get(name, patch.site)


@pytest.mark.parametrize("name", ["rifle", "pistol", "drugs_bricks", "ammunition", "grenade"])
def test_rotated_objects_have_exact_masks_and_masses(name):
    """Rotation draws the angle; the mask is exactly path > 0 and the mass does not depend on the angle."""
    shapes, masses = set(), []
    for seed in range(6):
        patch = create_threat(name, np.random.default_rng(seed), (6.0, 6.0))
        (inst,) = patch.instances
        assert (inst.mask == patch.footprint).all()
        # No sub-5 % slivers: every mask pixel carries real material.
        total = np.sum(list(patch.paths.values()), axis=0)
        assert total[inst.mask].min() > 0.04 * total.max()
        shapes.add(patch.shape)
        masses.append(inst.mass_kg)
    assert len(shapes) > 1  # the orientation varies


def test_drug_loads_go_down_to_a_few_kg():
    masses = [create_threat("drugs_bricks", np.random.default_rng(s), (5.0, 5.0)).instances[0].mass_kg
              for s in range(60)]
    assert min(masses) < 5 and max(masses) > 50


@pytest.mark.parametrize("name", ["hollowed_goods", "bulk_void"])
def test_voids_remove_cargo(name):
    for seed in range(5):
        patch = create_threat(name, np.random.default_rng(seed), (5.0, 5.0))
        assert patch.removal is not None and (patch.removal > 0.3).all()
        void = [i for i in patch.instances if i.cls == "void"]
        assert len(void) == 1 and (void[0].mask == (patch.removal > 0)).all()


@pytest.mark.parametrize("name", ["drugs_bricks", "cigarettes_cases", "pistol", "rifle"])
def test_contraband_displaces_the_goods_it_lies_in(name):
    """Contraband in the cargo takes the goods' place: a removal over its own mask, never beyond it, and the
    deeper the object along the beam, the more it displaces."""
    from cargoscan.tip.library import LOAD_DEPTH_CM

    for seed in range(4):
        patch = create_threat(name, np.random.default_rng(seed), (5.0, 5.0))
        (inst,) = patch.instances
        assert patch.removal is not None
        assert ((patch.removal > 0) == inst.mask).all()
        assert 0 < patch.removal.max() <= min(1.0, 150 / LOAD_DEPTH_CM)


@pytest.mark.parametrize("name, most", [("pistol", 24), ("rifle", 12)])
def test_firearms_come_alone_or_as_consignments(name, most):
    """Half single firearms, half consignments (the synthesiser's counts): the mass spans one piece to many."""
    from cargoscan.tip.library import MAX_STACK

    masses = [create_threat(name, np.random.default_rng(s), (5.0, 5.0)).instances[0].mass_kg for s in range(40)]
    single = min(masses)
    assert max(masses) > 4 * single
    assert sum(m < 1.6 * single for m in masses) >= 10  # many single pieces
    depths = [create_threat(name, np.random.default_rng(s), (5.0, 5.0)).removal.max() for s in range(40)]
    assert max(depths) / min(depths) == pytest.approx(MAX_STACK, rel=0.01)


def test_each_threat_has_one_site():
    """threat_site (what the training engine centres matched negatives on) is every patch's own site."""
    from cargoscan.tip.library import threat_site

    for name in list_threats():
        sites = {create_threat(name, np.random.default_rng(s), (6.0, 8.0)).site for s in range(4)}
        assert sites == {threat_site(name)}, name
