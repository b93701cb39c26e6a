"""The goods as items (synth.contents): a mean-1 field whose texture is the items' geometry, layers deep."""

from __future__ import annotations

import numpy as np
import pytest

from cargoscan.synth.cargo import CATEGORIES
from cargoscan.synth.contents import ITEMS, contents_field

PITCH = (0.0046, 0.005)


@pytest.mark.parametrize("category", sorted(ITEMS))
def test_field_keeps_the_mass_and_stays_physical(category):
    f = contents_field(np.random.default_rng(1), (300, 700), PITCH, category, 5)
    assert f.shape == (300, 700) and f.dtype == np.float32
    assert f.mean() == pytest.approx(1.0, rel=1e-4)       # redistributes the goods' path, never adds mass
    assert (f > 0).all()                                   # floor between items: wrapping, padding, small parts
    assert f.std() > 0.03                                  # and it has a texture


def test_categories_drawn_by_their_own_geometry_have_no_items():
    for name in ("tyres", "steel_products", "chemicals", "paper", "bulk_minerals", "liquids"):
        assert name in CATEGORIES
        assert contents_field(np.random.default_rng(0), (50, 50), PITCH, name, 4) is None
    assert set(ITEMS) <= set(CATEGORIES)


def test_more_package_rows_along_the_beam_average_the_texture():
    """A ray through six packages meets six independent sets of items: the relative spread falls with depth."""
    def spread(n_y):
        return np.mean([contents_field(np.random.default_rng(k), (256, 512), PITCH, "footwear", n_y).std()
                        for k in range(4)])
    one, six = spread(1), spread(6)
    assert six < 0.7 * one
    assert six == pytest.approx(one / np.sqrt(6), rel=0.35)


def test_items_are_coherent_objects_not_white_noise():
    """Neighbouring pixels lie mostly inside the same item: the field is strongly correlated over a pixel,
    which per-pixel white noise is not."""
    f = contents_field(np.random.default_rng(3), (256, 512), PITCH, "electronics", 2).astype(np.float64)
    g = f - f.mean()
    corr = float(np.mean(g[:, 1:] * g[:, :-1]) / np.mean(g * g))
    assert corr > 0.8, corr


def test_wider_units_fold_their_extra_rows_into_the_mean():
    f = contents_field(np.random.default_rng(2), (128, 256), PITCH, "garments", 40)
    assert f.mean() == pytest.approx(1.0, rel=1e-4)
    capped = contents_field(np.random.default_rng(2), (128, 256), PITCH, "garments", 6)
    assert f.std() < capped.std()
