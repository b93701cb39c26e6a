import numpy as np
import pytest

from cargoscan.physics import scanner as physics
from cargoscan.tip.config import TipParams
from cargoscan.tip.library import PatchInstance, ThreatPatch
from cargoscan.tip.project import BackgroundModel, Projector

from .conftest import wagon_paths


@pytest.fixture(scope="module")
def scanner():
    return physics.Scanner(physics.ScannerParams())


@pytest.fixture(scope="module")
def projector(scanner):
    return Projector(scanner, TipParams())


def block(material: str, path_cm: float, h: int = 30, w: int = 50) -> ThreatPatch:
    mask = np.ones((h, w), bool)
    return ThreatPatch(
        "block",
        "in_cargo",
        {material: np.full((h, w), path_cm, np.float32)},
        [PatchInstance("drugs", mask, material, 1.0)],
    )


def attenuation(scan: np.ndarray) -> np.ndarray:
    return -np.log(np.clip(scan.astype(np.float64) / 65535, 0.5 / 65535, 1.0))


def embed(paths, patch, y, x):
    out = {k: v.copy() for k, v in paths.items()}
    for k, v in patch.paths.items():
        out.setdefault(k, np.zeros_like(next(iter(paths.values()))))
        out[k][y : y + v.shape[0], x : x + v.shape[1]] += v
    return out


@pytest.mark.parametrize(
    "cargo_steel_cm,material,path_cm", [(0.0, "tobacco", 60.0), (6.0, "cocaine", 40.0), (6.0, "steel", 4.0)]
)
def test_projection_matches_direct_synthesis(scanner, projector, cargo_steel_cm, material, path_cm):
    """The same threat synthesised into the wagon and projected into the same empty wagon: the same A."""
    bg = wagon_paths(cargo_steel_cm=cargo_steel_cm)
    patch, y, x = block(material, path_cm), 60, 150
    both = embed(bg, patch, y, x)
    direct = scanner.acquire(both, np.random.default_rng(1))
    tip = projector.project(
        scanner.acquire(bg, np.random.default_rng(2)), patch, y, x, np.random.default_rng(3)
    )
    inner = (slice(None), slice(y + 3, y + 27), slice(x + 3, x + 47))
    a_direct, a_tip = attenuation(direct)[inner], attenuation(tip)[inner]
    n = a_direct[0].size
    for c in range(2):
        se = np.hypot(a_direct[c].std(), a_tip[c].std()) / np.sqrt(n)
        # Within noise (4 standard errors) plus 0.7 % for the model's table interpolation and smoothing.
        assert abs(a_tip[c].mean() - a_direct[c].mean()) < 4 * se + 0.007 * a_direct[c].mean()
        # The noise is restored too: the column-difference σ of the transmission (where the noise model lives;
        # −ln T would be dominated by the few near-starved pixels) within 15 % of the direct scan's.
        t_direct, t_tip = direct[inner][c].astype(float), tip[inner][c].astype(float)
        s_d, s_t = np.diff(t_direct, axis=1).std(), np.diff(t_tip, axis=1).std()
        assert abs(s_t / s_d - 1) < 0.15


def test_log_additive_insertion_overestimates(scanner):
    """Adding attenuations ignores beam hardening: several per cent too much at 6 MeV behind a load."""
    bg = wagon_paths(cargo_steel_cm=6.0)
    patch, y, x = block("cocaine", 40.0), 60, 150
    threat_alone = embed({"steel": np.zeros_like(bg["steel"])}, patch, y, x)
    inner = (slice(y + 3, y + 27), slice(x + 3, x + 47))
    a_direct = -np.log(scanner.transmission(embed(bg, patch, y, x)))[0][inner].mean()
    a_logadd = (-np.log(scanner.transmission(bg)) - np.log(scanner.transmission(threat_alone)))[0][
        inner
    ].mean()
    assert a_logadd / a_direct - 1 > 0.03


def test_background_model_reproduces_attenuation(scanner):
    rng = np.random.default_rng(0)
    paths = {
        "wood": rng.uniform(0, 150, (20, 20)).astype(np.float32),
        "steel": rng.uniform(0, 20, (20, 20)).astype(np.float32),
    }
    a = -np.log(scanner.transmission(paths))
    model = BackgroundModel(scanner, ("polyethylene", "lead"))
    basis = model.invert(a[0], a[1])
    a_back = -np.log(scanner.transmission(basis))
    assert (np.abs(a_back - a) < 0.005 * a + 0.005).all()  # the table interpolations agree to ~0.5 %


def test_starvation_clipping_and_untouched_pixels(scanner, projector):
    bg = wagon_paths()
    scan = scanner.acquire(bg, np.random.default_rng(4))
    scan[:, 70:80, 160:170] = 0  # a starved spot under the threat
    patch, y, x = block("steel", 8.0), 60, 150
    out = projector.project(scan, patch, y, x, np.random.default_rng(5))
    assert out.dtype == np.uint16
    assert (out[:, 70:80, 160:170] == 0).all()
    m = projector.margin
    far = np.ones(scan.shape[1:], bool)
    far[y - m : y + 30 + m, x - m : x + 50 + m] = False
    assert (out[:, far] == scan[:, far]).all()
    assert (
        out[:, y + 5 : y + 25, x + 5 : x + 45] <= scan[:, y + 5 : y + 25, x + 5 : x + 45].astype(int) + 2000
    ).all()
    assert (
        attenuation(out)[0, y + 5 : y + 25, x + 5 : x + 45].mean()
        > attenuation(scan)[0, y + 5 : y + 25, x + 5 : x + 45].mean() + 0.5
    )


def test_psf_spreads_the_edge():
    """The inserted edge is blurred like the scanner's own edges: the ideal step shows up over > 1 pixel."""
    patch, y, x = block("steel", 10.0), 60, 150
    blurry = physics.Scanner(physics.ScannerParams(blur_row=0.8, blur_col=0.8))
    pr = Projector(blurry, TipParams(renoise=False))
    scan = np.full((2, 200, 360), 40000, np.uint16)
    out = pr.project(scan, patch, y, x, np.random.default_rng(0))
    # The PSF acts on transmission: the edge pixels hold fractions Φ(∓0.5/σ) ≈ 0.27 / 0.73 of the step.
    row = out[0, y + 15].astype(float)
    step = row[x - 10] - row[x + 10]
    bleed, inside = (row[x - 10] - row[x - 1]) / step, (row[x - 10] - row[x]) / step
    assert 0.1 < bleed < 0.45
    assert 0.55 < inside < 0.9
