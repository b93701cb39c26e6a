import torch

from cargoscan.data.dataset import TileDataset, WagonDataset


def test_tile_samples_are_normalised_dicts(tiny_prepared):
    ds = TileDataset(tiny_prepared, "train")
    s = ds[0]
    assert s["image"].shape == (3, 64, 64) and s["image"].dtype == torch.float32
    assert s["mask"].shape == (64, 64) and s["mask"].dtype == torch.int64
    assert int(s["label"]) in (0, 1) and s["meta"]["scan_id"]
    allimg = torch.stack([ds[i]["image"] for i in range(len(ds))])
    assert abs(float(allimg[:, 0].mean())) < 0.6  # roughly centred by the train statistics
    assert ds.has_threat.any() and not ds.has_threat.all()
    fig = ds.plot(0)
    assert len(fig.axes) == 1


def test_wagons_are_whole_scans_of_one_split(tiny_prepared):
    ds = WagonDataset(tiny_prepared, "test")
    s = ds[0]
    assert s["image"].shape[1:] == s["mask"].shape == (64, 256)
    assert {r for r in ds.rows["split"]} == {"test"}
