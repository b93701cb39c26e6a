import numpy as np
import pytest

from cargoscan.archive import decode_rle, load_sample
from cargoscan.archive.classes import class_id, threat_ids
from cargoscan.physics import scanner as physics
from cargoscan.tip.config import TipParams
from cargoscan.tip.insertion import UNLABELLED, tip_id, tip_scan
from cargoscan.tip.project import Projector

from .conftest import wagon_paths, write_background


@pytest.fixture(scope="module")
def scanner():
    return physics.Scanner(physics.ScannerParams())


@pytest.fixture
def background(tmp_path, scanner):
    image = scanner.acquire(wagon_paths(260, 480, cargo_steel_cm=2.0), np.random.default_rng(0))
    scan_id = write_background(tmp_path / "imported", image)
    return tmp_path, scan_id, image


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_labels_line_up_with_inserted_pixels(background, scanner, seed):
    root, scan_id, image = background
    params = TipParams(
        threats_per_scan=(2, 2), threats=("drugs_bricks", "rifle", "pistol", "cigarettes_cases")
    )
    new = tip_scan(
        root / "imported",
        root / "tip",
        scan_id,
        0,
        Projector(scanner, params),
        np.random.default_rng(seed),
        params,
    )
    assert new == tip_id(scan_id, 0)
    sample = load_sample(root / "tip", new, labels=True)  # sidecar and labels valid against the schemas
    assert sample["meta"]["source"] == {
        "kind": "tip",
        "background": scan_id,
        "threats": sample["meta"]["source"]["threats"],
        "background_source": "imported",
    }
    out, mask = sample["image"].astype(float), sample["mask"]
    threat = np.isin(mask, threat_ids())
    assert threat.any()
    # Every instance decodes to threat pixels of the semantic mask.
    union = np.zeros(mask.shape, bool)
    for inst in sample["instances"]:
        m = decode_rle(inst["bbox"], inst["mask"]["rle"], mask.shape)
        assert threat[m].all()
        union |= m
    assert (union == threat).all()
    # Changed pixels lie on the labelled threats, widened by the PSF and the low channel's lag (within the
    # projector's 4 σ reach: a 100 kg block of drugs has a visible PSF tail) ...
    a_in, a_out = (-np.log(np.clip(x / 65535, 0.5 / 65535, 1)) for x in (image.astype(float), out))
    changed = (np.abs(a_out - a_in) > 0.05).any(axis=0)
    from scipy import ndimage

    ry, rx = Projector(scanner, params).reach
    near = ndimage.binary_dilation(threat, structure=np.ones((2 * ry + 1, 2 * rx + 1), bool))
    assert not (changed & ~near).any()
    # ... and the labelled pixels did change: the threat adds attenuation where the label says (cigarette
    # cases, about as dense as this load, take its place and barely change it: the seams and the ratio tell).
    dense = threat & (mask != class_id("cigarettes"))
    assert (a_out[0] - a_in[0])[dense].mean() > 0.1
    # Wagon pixels of a real scan are unlabelled (ignore), air is background.
    assert (mask[~threat] != UNLABELLED).sum() > 0 and (mask == UNLABELLED).sum() > 0
    air = image[0] > 0.97 * 65535
    assert (mask[air & ~threat] == 0).all()


def test_tip_keeps_existing_labels_and_refuses_overwrite(background, scanner):
    root, scan_id, _ = background
    params = TipParams(threats_per_scan=(1, 1), threats=("pistol",))
    pr = Projector(scanner, params)
    first = tip_scan(root / "imported", root / "tip", scan_id, 0, pr, np.random.default_rng(0), params)
    # A TIP'd scan as background again: the first threat's instance is kept, the new one added after it.
    second = tip_scan(root / "tip", root / "tip2", first, 0, pr, np.random.default_rng(1), params)
    ids = [i["id"] for i in load_sample(root / "tip2", second, labels=True)["instances"]]
    assert ids == [1, 2]
    with pytest.raises(Exception, match="already exists"):
        tip_scan(root / "imported", root / "tip", scan_id, 0, pr, np.random.default_rng(0), params)


def test_tip_id_variants():
    assert tip_id("32701RF06202502181747029", 0) == "32701RF06202502181747020"
    with pytest.raises(ValueError):
        tip_id("32701RF06202502181747029", 9)


def test_tip_on_every_synthetic_wagon_kind(tiny_archive, tmp_path):
    """Each kind of wagon the synthesiser makes takes threats, never in the air around the wagon."""
    from cargoscan.archive import ArchivePaths
    from cargoscan.tip.placement import attenuation_high

    params = TipParams(threats_per_scan=(2, 2))
    rng = np.random.default_rng(0)
    written = 0
    for scan_id in ArchivePaths(tiny_archive).scan_ids():
        new = tip_scan(tiny_archive, tmp_path, scan_id, 0, None, rng, params)  # the scan's own scanner
        if new is None:
            continue
        written += 1
        before = load_sample(tiny_archive, scan_id, labels=True)
        after = load_sample(tmp_path, new, labels=True)
        assert after["meta"]["source"]["background_source"] == "synthetic"
        n_old = len(before["instances"])
        a = attenuation_high(before["image"])
        for inst in after["instances"][n_old:]:
            m = decode_rle(inst["bbox"], inst["mask"]["rle"], a.shape)
            assert (a[m] > params.placement.wall_level).all(), (scan_id, inst["class"])
    assert written >= 4
