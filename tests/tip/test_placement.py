import numpy as np
import pytest

from cargoscan.tip.config import PlacementParams
from cargoscan.tip.placement import PlacementError, allowed_region, attenuation_high, find_envelope, place


def test_envelope_covers_the_body_not_air_or_bogies(wagon):
    env = find_envelope(wagon)
    h, w = wagon.shape[1:]
    # Constructed wagon: body rows 18..86, columns 15..285, bogies from row ~90.
    assert abs(env.top - int(0.15 * h)) <= 2
    assert abs(env.left - int(0.05 * w)) <= 2 and abs(env.right - int(0.95 * w)) <= 2
    assert env.bottom <= int(0.72 * h) + 4  # the bogie band is excluded
    assert not env.inside[: int(0.15 * h) - 2].any()  # no air above the wagon


@pytest.mark.parametrize("site", ["in_cargo", "false_floor", "false_front_wall"])
def test_placements_stay_inside_the_envelope(wagon, site):
    rng = np.random.default_rng(0)
    env = find_envelope(wagon)
    foot = np.ones((8, 12), bool)
    a = attenuation_high(wagon)
    region = allowed_region(env, site, PlacementParams().margin_px)
    for _ in range(30):
        y, x = place(wagon, foot, site, rng, envelope=env)
        assert region[y : y + 8, x : x + 12].all()
        assert (a[y : y + 8, x : x + 12] > PlacementParams().wall_level).all()  # never in air
        assert y + 8 <= env.bottom
    if site == "false_floor":
        assert y >= env.floor


def test_occupied_pixels_are_avoided(wagon):
    env = find_envelope(wagon)
    occupied = env.inside.copy()
    occupied[:, : wagon.shape[2] // 2] = False  # only the left half is free
    rng = np.random.default_rng(1)
    for _ in range(10):
        y, x = place(wagon, np.ones((5, 5), bool), "in_cargo", rng, envelope=env, occupied=occupied)
        assert x + 5 <= wagon.shape[2] // 2


def test_empty_scan_has_no_envelope():
    air = np.full((2, 60, 200), 65535, np.uint16)
    with pytest.raises(PlacementError, match="no wagon body"):
        find_envelope(air)


def test_too_big_threat_refused(wagon):
    with pytest.raises(PlacementError):
        place(wagon, np.ones((100, 100), bool), "in_cargo", np.random.default_rng(0))
