"""Materials: NIST checkpoints, mixture rule, registry."""

import numpy as np
import pytest

from cargoscan.physics.materials import MATERIALS, Material, get_material, mu_rho

# NIST XCOM checkpoints (total with coherent, cm²/g) from the shared nist-xcom README.
NIST = {
    "iron": (0.05995, 0.03312, 0.03057),
    "water": (0.07072, 0.03403, 0.02770),
    "polyethylene": (0.07262, 0.03444, 0.02761),
    "lead": (0.07102, 0.04197, 0.04391),
}
CONTRACT_NAMES = ["steel", "aluminium", "wood", "rubber", "polyethylene", "pvc", "cellulose", "water", "food",
                  "glass", "copper", "lead", "concrete", "sand", "coal", "grain", "cocaine", "heroin", "tobacco",
                  "brass", "textile", "leather", "oil", "fertilizer", "plastic_abs", "soap"]


@pytest.mark.parametrize("name", sorted(NIST))
def test_nist_checkpoints_within_one_percent(name):
    got = mu_rho(name, [1.0, 4.0, 6.0])
    np.testing.assert_allclose(got, NIST[name], rtol=0.01)


def test_contract_materials_exist_with_sane_densities():
    for name in CONTRACT_NAMES:
        m = MATERIALS[name]
        assert 0.3 < m.density_g_cm3 < 12
        assert sum(m.composition.values()) == pytest.approx(1.0, abs=1e-6)


def test_mixture_rule():
    half = Material("half", 4.0, {"Fe": 0.5, "Pb": 0.5})
    e = np.array([1.0, 3.0, 6.0])
    np.testing.assert_allclose(mu_rho(half, e), 0.5 * mu_rho("iron", e) + 0.5 * mu_rho("lead", e), rtol=1e-12)


def test_zeff_orders_materials():
    z = {n: MATERIALS[n].zeff for n in ("polyethylene", "water", "aluminium", "steel", "lead")}
    assert z["polyethylene"] < z["water"] < 10 < z["aluminium"] < 18 < z["steel"] < 30 < z["lead"]


def test_bad_material_input():
    with pytest.raises(KeyError, match="unknown material"):
        get_material("unobtainium")
    with pytest.raises(ValueError, match="sum"):
        Material("bad", 1.0, {"Fe": 0.5})
    with pytest.raises(ValueError, match="density"):
        Material("bad", -1.0, {"Fe": 1.0})
