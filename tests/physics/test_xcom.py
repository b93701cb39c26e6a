"""Packaged NIST XCOM tables: values at native points, interpolation, edges, errors."""

import numpy as np
import pytest

from cargoscan.physics import xcom


def test_native_points_are_returned_unchanged():
    # Fe at 1, 4, 6 MeV and Pb at 6 MeV: values in the NIST README checkpoints.
    assert xcom.element_mu_rho("Fe", [1.0, 4.0, 6.0]) == pytest.approx([0.05995, 0.03312, 0.03057], rel=1e-6)
    assert xcom.element_mu_rho(82, 6.0) == pytest.approx(0.04391, rel=1e-6)


def test_loglog_interpolation_lies_between_neighbours_and_is_smooth():
    e = np.geomspace(0.1, 10, 200)
    mu = xcom.element_mu_rho("C", e)
    assert np.all(np.diff(mu) < 0)  # carbon's μ/ρ falls monotonically from 0.1 to 10 MeV
    mid = xcom.element_mu_rho("C", np.sqrt(4.0 * 5.0))
    lo, hi = xcom.element_mu_rho("C", [4.0, 5.0])
    assert hi < mid < lo


def test_absorption_edge_jumps_up():
    # Pb K edge at 88 keV: μ/ρ just above is several times the value just below.
    below, above = xcom.element_mu_rho("Pb", [0.0879, 0.0882])
    assert above > 3 * below


def test_components_sum_to_total():
    e = np.array([0.5, 2.0, 6.0])
    parts = sum(xcom.element_mu_rho("Pb", e, c) for c in xcom.COMPONENTS[:5])
    np.testing.assert_allclose(parts, xcom.element_mu_rho("Pb", e), rtol=5e-3)
    assert np.all(xcom.element_mu_rho("Fe", [0.5, 1.0], "pair_nuclear") == 0)  # below the 1.022 MeV threshold


def test_energy_absorption_below_attenuation():
    e = np.array([0.5, 1.0, 4.0, 6.0])
    for el in ("O", "Cd", "W"):
        en = xcom.element_mu_en_rho(el, e)
        assert np.all(en > 0) and np.all(en < xcom.element_mu_rho(el, e))


def test_bad_requests_fail_clearly():
    with pytest.raises(KeyError, match="not packaged"):
        xcom.element_mu_rho("Xx", 1.0)
    with pytest.raises(ValueError, match="0.01–10 MeV"):
        xcom.element_mu_rho("Fe", 20.0)
    with pytest.raises(KeyError, match="component"):
        xcom.element_mu_rho("Fe", 1.0, "nonsense")
