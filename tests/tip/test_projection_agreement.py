"""The issue's physics test: projecting a library threat into a scan agrees with the synthesiser's direct
rendering of the same object in the same scene (transmission within 2 % in both channels), for added
material and for removed cargo (voids, hollowed goods); masks match the projected footprint exactly."""

import numpy as np
import pytest

from cargoscan.physics import scanner as physics
from cargoscan.tip.config import TipParams
from cargoscan.tip.library import create_threat, list_threats
from cargoscan.tip.project import Projector

PITCH = (10.0, 10.0)
H, W = 200, 420
WALL_CM = 0.6  # two 3 mm steel side walls
TOP, FLOOR = 10, 170


def scene(cargo: bool = True) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(walls, cargo) path maps (cm) of a loaded wagon body: walls everywhere in the body, a load of wood with
    iron parts (a textured machinery-and-crates load) inside."""
    walls = {"steel": np.zeros((H, W), np.float32)}
    walls["steel"][TOP:FLOOR, 5 : W - 5] = WALL_CM
    walls["steel"][FLOOR : FLOOR + 4, 5 : W - 5] = 25.0  # floor, seen along its width
    goods = {"wood": np.zeros((H, W), np.float32), "iron": np.zeros((H, W), np.float32)}
    if cargo:
        yy, xx = np.mgrid[0:H, 0:W]
        texture = 1.0 + 0.25 * np.sin(xx / 7.0) * np.cos(yy / 5.0)
        goods["wood"][TOP + 4 : FLOOR - 2, 10 : W - 10] = 90.0 * texture[TOP + 4 : FLOOR - 2, 10 : W - 10]
        goods["iron"][TOP + 4 : FLOOR - 2, 10 : W - 10] = 1.5 * texture[TOP + 4 : FLOOR - 2, 10 : W - 10]
    return walls, goods


def merged(*parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for part in parts:
        for k, v in part.items():
            out[k] = out[k] + v if k in out else v.copy()
    return out


def embed(paths: dict[str, np.ndarray], y: int, x: int) -> dict[str, np.ndarray]:
    out = {}
    for k, v in paths.items():
        full = np.zeros((H, W), np.float32)
        full[y : y + v.shape[0], x : x + v.shape[1]] = v
        out[k] = full
    return out


def quiet_scanner(blur: bool = True):
    """The default scanner with its noise off (photon counts so high that σ ≈ 3e-5 of the signal)."""
    kw = dict(photons_high=1e9, photons_low=1e9, electronic_noise=0.0, streak_sigma=0.0)
    if not blur:
        kw.update(blur_row=0.0, blur_col=0.0, crosstalk_row=0.0, misregistration_cols=0.0)
    return physics.Scanner(physics.ScannerParams(**kw))


@pytest.fixture(scope="module")
def scanner():
    return quiet_scanner()


@pytest.fixture(scope="module")
def projector(scanner):
    pr = Projector(scanner, TipParams())
    # The wall level a removal keeps: this scene's two side walls.
    t_walls = scanner.transmission({"steel": np.full((1, 1), WALL_CM, np.float32)})
    pr.wall_attenuation = float(-np.log(t_walls[0, 0, 0]))
    return pr


def site_of(shape: tuple[int, int]) -> tuple[int, int]:
    """A top-left corner that puts a patch inside the cargo."""
    ph, pw = shape
    assert ph <= FLOOR - TOP - 12 and pw <= W - 40, shape
    return TOP + 6 + (FLOOR - TOP - 12 - ph) // 2, 20 + (W - 40 - pw) // 3


def rendered_pair(scanner, projector, name: str, seed: int):
    """(direct, projected, footprint) transmissions (2, H, W) of one library threat in the scene."""
    walls, goods = scene()
    patch = create_threat(name, np.random.default_rng(seed), PITCH)
    y, x = site_of(patch.shape)
    rng = np.random.default_rng(seed)
    background = scanner.acquire(merged(walls, goods), rng)
    if patch.removal is not None:
        r = np.zeros((H, W), np.float32)
        r[y : y + patch.shape[0], x : x + patch.shape[1]] = patch.removal
        goods = {k: v * (1.0 - r) for k, v in goods.items()}  # the cargo is absent, the walls stay
    direct = scanner.acquire(merged(walls, goods, embed(patch.paths, y, x)), rng)
    projected = projector.project(background, patch, y, x, np.random.default_rng(seed + 1))
    foot = np.zeros((H, W), bool)
    foot[y : y + patch.shape[0], x : x + patch.shape[1]] = patch.footprint
    return direct.astype(np.float64) / 65535, projected.astype(np.float64) / 65535, foot


def relative_difference(scanner, projector, name: str, seed: int) -> np.ndarray:
    direct, projected, foot = rendered_pair(scanner, projector, name, seed)
    t_d, t_p = direct[:, foot].mean(axis=1), projected[:, foot].mean(axis=1)
    return np.abs(t_p / t_d - 1.0)


@pytest.mark.parametrize("name", list_threats())
def test_projection_agrees_with_direct_rendering(scanner, projector, name):
    """Mean transmission over the object's footprint: projected vs rendered in the scene, within 2 % per
    channel (for voids and hollowed goods: against rendering the reduced background directly)."""
    worst = np.zeros(2)
    for seed in range(3):
        worst = np.maximum(worst, relative_difference(scanner, projector, name, seed))
    assert (worst < 0.02).all(), (name, worst)


def test_projection_changes_the_image(scanner, projector):
    """Not a vacuous comparison: the threats change the transmission well beyond the tolerance."""
    walls, goods = scene()
    background = scanner.acquire(merged(walls, goods), np.random.default_rng(0)).astype(np.float64) / 65535
    for name in ("drugs_bricks", "rifle", "bulk_void"):
        direct, projected, foot = rendered_pair(scanner, projector, name, 0)
        change = np.abs(direct[:, foot].mean(axis=1) / background[:, foot].mean(axis=1) - 1)
        assert (change > 0.05).all(), (name, change)
    _, projected, foot = rendered_pair(scanner, projector, "bulk_void", 0)
    assert (projected[:, foot].mean(axis=1) > background[:, foot].mean(axis=1)).all()  # a void brightens


@pytest.mark.parametrize("name", list_threats())
def test_masks_match_the_projected_footprint(name):
    """With a noiseless, blur-free scanner the pixels a projection changes are exactly the patch's footprint
    (material added or cargo removed), and the labels say so: contraband masks lie on changed pixels and the
    instance masks together cover every changed pixel."""
    scanner = quiet_scanner(blur=False)
    projector = Projector(scanner, TipParams(renoise=False))
    walls, goods = scene()
    background = scanner.acquire(merged(walls, goods), np.random.default_rng(0))
    for seed in range(3):
        patch = create_threat(name, np.random.default_rng(seed), PITCH)
        y, x = site_of(patch.shape)
        out = projector.project(background, patch, y, x, np.random.default_rng(0))
        changed = (out != background).any(axis=0)
        foot = np.zeros((H, W), bool)
        foot[y : y + patch.shape[0], x : x + patch.shape[1]] = patch.footprint
        assert (changed == foot).all(), (name, seed, int((changed ^ foot).sum()))
        union = np.zeros((H, W), bool)
        for inst in patch.instances:
            full = np.zeros((H, W), bool)
            full[y : y + patch.shape[0], x : x + patch.shape[1]] = inst.mask
            union |= full
            if inst.cls not in ("hidden_compartment", "void"):
                assert changed[full].all(), (name, inst.cls)
        assert (union | ~changed).all()


def test_removal_keeps_results_of_adding_patches(scanner, projector):
    """A removal map of zeros gives the same image as no removal map (the added code path is additive)."""
    walls, goods = scene()
    background = scanner.acquire(merged(walls, goods), np.random.default_rng(0))
    patch = create_threat("rifle", np.random.default_rng(0), PITCH)
    patch.removal = None  # a rifle displaces the goods it lies in: this test is about a patch that does not
    y, x = site_of(patch.shape)
    a = projector.project(background, patch, y, x, np.random.default_rng(5))
    patch.removal = np.zeros(patch.shape, np.float32)
    b = projector.project(background, patch, y, x, np.random.default_rng(5))
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1


def test_removal_never_removes_the_walls(scanner, projector):
    """A full removal over an empty body (walls only) leaves the walls: the image hardly changes."""
    walls, _ = scene(cargo=False)
    background = scanner.acquire(walls, np.random.default_rng(0))
    patch = create_threat("bulk_void", np.random.default_rng(1), PITCH)
    patch.paths = {}
    patch.removal = np.ones(patch.shape, np.float32)
    y, x = site_of(patch.shape)
    out = projector.project(background, patch, y, x, np.random.default_rng(0))
    inner = (slice(None), slice(y + 3, y + patch.shape[0] - 3), slice(x + 3, x + patch.shape[1] - 3))
    assert np.abs(out[inner].astype(float) / background[inner] - 1).max() < 0.01


def _moved(scanner, projector, name: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Relative change of the mean transmission over a patch (per channel): displacing the goods; laid on top."""
    walls, goods = scene()
    background = scanner.acquire(merged(walls, goods), np.random.default_rng(0))
    patch = create_threat(name, np.random.default_rng(seed), PITCH)
    y, x = site_of(patch.shape)
    shown = projector.project(background, patch, y, x, np.random.default_rng(1)).astype(float)
    patch.removal = None
    added = projector.project(background, patch, y, x, np.random.default_rng(1)).astype(float)
    foot = (slice(None), slice(y, y + patch.shape[0]), slice(x, x + patch.shape[1]))
    bg = background.astype(float)[foot].mean(axis=(1, 2))
    return shown[foot].mean(axis=(1, 2)) / bg - 1, added[foot].mean(axis=(1, 2)) / bg - 1


def test_displaced_contraband_takes_the_goods_place(scanner, projector):
    """Contraband set into a load takes the goods' place (what the library did not do before displacement): a
    rifle moves the transmission less than if laid on top of the goods, and the catalogue's cigarette cases
    (136 kg/m³), lighter than this load (≈ 270 kg/m³ of wood and iron), brighten it where laid on top they
    would darken it."""
    displaced, added = _moved(scanner, projector, "rifle", 2)
    assert (np.abs(displaced) < 0.8 * np.abs(added)).all(), (displaced, added)
    displaced, added = _moved(scanner, projector, "cigarettes_cases", 2)
    assert (displaced > 0.05).all() and (added < -0.05).all(), (displaced, added)
