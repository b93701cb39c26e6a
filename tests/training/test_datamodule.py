"""The training-data engine: projected threats on the fly, the sampler's mix and the hard-negative replay."""

import numpy as np
import pytest
import torch

from cargoscan.archive.classes import threat_ids
from cargoscan.data.dataset import Prepared
from cargoscan.data.projected import ProjectedTiles, ProjectionParams
from cargoscan.data.randomize import Draw, RandomizeParams
from cargoscan.training.datamodule import HardNegatives, MixSampler, TileDataModule

OFF = ProjectionParams(randomize=RandomizeParams(p=0.0), imported=(), negative_share=0.0)


@pytest.fixture(scope="module")
def clean_prepared(tmp_path_factory):
    """Three 2-wagon trains with nothing hidden (loaded flat and covered wagons), prepared with 64-px tiles."""
    import dataclasses

    from cargoscan.synth.config import ConsistParams, LoadParams, ThreatParams
    from cargoscan.synth.generator import generate
    from tests.conftest import tiny_params
    from tests.training.conftest import _prepare

    root = tmp_path_factory.mktemp("clean")
    p = tiny_params(seed=5, train=ConsistParams(wagons_per_train=(2, 2)),
                    threats=ThreatParams(wagon_rate=0.0),
                    load=LoadParams(wagon_types={"flat": 0.5, "covered": 0.5}, empty_rate=0.0, partial_rate=0.0))
    generate(dataclasses.replace(p, previews=0), root / "raw", show_progress=False)
    _prepare(root / "raw", root / "prepared")
    return root / "prepared"


@pytest.fixture(scope="module")
def projected(clean_prepared):
    return ProjectedTiles(Prepared(clean_prepared), OFF, None, seed=3)


def test_a_key_is_one_sample_and_keys_differ(projected):
    a, b, c = projected[7], projected[7], projected[8]
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    assert not torch.equal(a["image"], c["image"])
    assert a["image"].shape[1:] == a["mask"].shape == (projected.tile, projected.tile)


def test_most_samples_hold_projected_threat_pixels(projected):
    masks = [projected[k]["mask"].numpy() for k in range(24)]
    with_threat = sum(np.isin(m, threat_ids()).any() for m in masks)
    assert with_threat >= 16, f"only {with_threat} of 24 samples hold a projected threat"


def test_matched_negatives_are_load_windows_with_nothing_projected(clean_prepared):
    """Negatives go through the positives' pipeline (window in the load, re-imaging) with no threat: the model
    cannot learn "projected-looking" as a threat cue."""
    import dataclasses

    half = ProjectedTiles(Prepared(clean_prepared), dataclasses.replace(OFF, negative_share=0.5), None, seed=3)
    samples = [half[k] for k in range(32)]
    negatives = [s for s in samples if s["meta"]["n_threats"] == 0]
    assert 6 <= len(negatives) <= 26, f"{len(negatives)} of 32 samples are negatives at a share of 0.5"
    for s in negatives:
        assert not np.isin(s["mask"].numpy(), threat_ids()).any()
    positives = [s for s in samples if s["meta"]["n_threats"] > 0]
    # windows are drawn the same way: negatives hold about as much load (A_high) as positives
    load = lambda group: np.mean([float((s["image"][0] * half.data.std[0, 0, 0]   # noqa: E731
                                         + half.data.mean[0, 0, 0] > 0.2).float().mean()) for s in group])
    assert 0.5 < load(negatives) / load(positives) < 2.0
    held = sum(np.isin(s["mask"].numpy(), threat_ids()).any() for s in positives)
    assert positives and held >= 0.8 * len(positives)


@pytest.mark.parametrize("name", ["underframe_box", "structure_compartment", "false_floor", "false_roof",
                                  "false_front_wall"])
def test_windows_are_centred_on_the_threats_site(clean_prepared, name):
    """A window is drawn around a pixel of the first threat's site, so concealments in the underframe, floors,
    roofs and end walls find a place in it (drawn anywhere in the load, most windows missed the underframe)."""
    import dataclasses

    one = ProjectedTiles(Prepared(clean_prepared), dataclasses.replace(OFF, threats=(name,)), None, seed=3)
    placed = sum(one.render(k)[3] > 0 for k in range(16))
    assert placed >= 12, f"{name}: placed in {placed} of 16 windows"


def _projections(tiles: ProjectedTiles, keys: range):
    """(window after, window before, label mask) at the scan's own pitch for each key that placed a threat, on
    the background the key draws, without re-imaging."""
    for key in keys:
        rng = np.random.default_rng([3, key])
        s = tiles.scan(int(np.random.default_rng([3, key // 4, 0]).integers(len(tiles.pool))))
        if s.envelope is None:
            continue
        out = tiles.project_native(s, Draw.identity(), rng)
        if out is not None:
            yield out[:3]


def test_masks_match_where_the_projection_attenuates(projected):
    """Labelled threat pixels are where the projected λ lies: the attenuation rose (or, for a void, fell) there,
    and nowhere beyond the scanner's PSF reach from them."""
    from scipy import ndimage

    checked = 0
    for after, before, mask in _projections(projected, range(40)):
        threat = np.isin(mask, threat_ids())
        if threat.sum() < 20:
            continue
        a = lambda im: -np.log(np.clip(im[0].astype(float) / 65535, 1e-6, 1))   # noqa: E731
        change = np.abs(a(after) - a(before))
        far = ~ndimage.binary_dilation(threat, iterations=12)
        assert change[threat].mean() > 5 * change[far].mean() + 1e-4
        assert np.percentile(change[far], 99) < 0.05          # nothing was projected outside the labels
        checked += 1
    assert checked >= 3


def test_sampler_delivers_the_configured_shares():
    has_threat = torch.zeros(200, dtype=torch.bool)
    has_threat[:20] = True
    s = MixSampler(has_threat, HardNegatives(200), 20000, projected_share=0.4, threat_share=0.5, hard_weight=0.0,
                   seed=0)
    keys = torch.tensor(list(s))
    proj = keys >= 200
    assert abs(proj.float().mean().item() - 0.4) < 0.02
    assert abs(has_threat[keys[~proj]].float().mean().item() - 0.5) < 0.02
    assert len(set(keys[proj].tolist())) == int(proj.sum())             # every projected draw is a new instance
    again = torch.tensor(list(s))                                       # the next epoch: new projected keys
    assert not set(again[again >= 200].tolist()) & set(keys[proj].tolist())


def test_hard_negatives_are_replayed_more_often():
    has_threat = torch.zeros(100, dtype=torch.bool)
    hard = HardNegatives(100, decay=0.0)
    hard.update(torch.tensor([5, 150]), torch.tensor([1.0, 1.0]))      # 150: not a prepared tile, ignored
    s = MixSampler(has_threat, hard, 50000, projected_share=0.0, threat_share=0.0, hard_weight=4.0, seed=1)
    counts = torch.bincount(torch.tensor(list(s)), minlength=100).float()
    assert counts[5] / counts[torch.arange(100) != 5].mean() == pytest.approx(5.0, rel=0.15)


def test_datamodule_mixes_projected_samples_into_batches(clean_prepared):
    dm = TileDataModule(str(clean_prepared), batch_size=8, projection=ProjectionParams(share=0.5, imported=()),
                        samples_per_epoch=32)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    n = batch["meta"]["n_threats"]
    assert batch["image"].shape[0] == 8 and int((n > 0).sum()) >= 1
    assert torch.isfinite(batch["image"]).all()


def _goods_under_threats(tiles: ProjectedTiles, keys: range) -> list[float]:
    """Median A_high of the goods (the window before projection) under each placed threat's mask."""
    from cargoscan.tip.placement import attenuation_high

    out = []
    for _, before, mask in _projections(tiles, keys):
        threat = np.isin(mask, threat_ids())
        if threat.any():
            out.append(float(np.median(attenuation_high(before)[threat])))
    return out


def test_dense_share_sets_contraband_into_dense_goods(clean_prepared):
    """With ``dense_share`` 1 the drug bricks meant for the cargo go into the dense goods' region, so the goods
    under them attenuate more than where they land with the share at 0 (anywhere in the body)."""
    import dataclasses

    def tiles(share: float) -> ProjectedTiles:
        p = dataclasses.replace(OFF, threats=("drugs_bricks",), threats_per_tile=(1, 1), dense_share=share)
        return ProjectedTiles(Prepared(clean_prepared), p, None, seed=3)

    anywhere, dense = _goods_under_threats(tiles(0.0), range(32)), _goods_under_threats(tiles(1.0), range(32))
    assert len(anywhere) >= 8 and len(dense) >= 8, (len(anywhere), len(dense))
    assert np.median(dense) > 1.2 * np.median(anywhere), (np.median(dense), np.median(anywhere))
