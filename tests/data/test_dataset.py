import pandas as pd
import torch

from cargoscan.data.dataset import TileDataset, WagonDataset


def test_tile_samples_are_normalised_dicts(tiny_prepared):
    ds = TileDataset(tiny_prepared, "train")
    s = ds[0]
    assert s["image"].shape == (3, 64, 64) and s["image"].dtype == torch.float32
    assert s["mask"].shape == (64, 64) and s["mask"].dtype == torch.int64
    assert 0 <= int(s["label"]) < len(ds.data.categories) and s["meta"]["scan_id"]
    allimg = torch.stack([ds[i]["image"] for i in range(len(ds))])
    assert abs(float(allimg[:, 0].mean())) < 0.6  # roughly centred by the train statistics
    assert float(allimg[:, 0].std()) > 0.3
    fig = ds.plot(0)
    assert len(fig.axes) == 1


def test_threat_flags_follow_the_tile_masks(tiny_prepared):
    ds = TileDataset(tiny_prepared, "train")
    for i in range(len(ds)):
        assert bool(ds.has_threat[i]) == bool((ds[i]["mask"] >= 3).any())


def test_wagons_are_whole_scans_of_one_split(tiny_prepared):
    ds = WagonDataset(tiny_prepared, "test")
    index = pd.read_csv(tiny_prepared / "index.csv", dtype=str).set_index("scan_id")
    assert len(ds) == (index["split"] == "test").sum()
    s = ds[0]
    row = index.loc[s["meta"]["scan_id"]]
    assert s["image"].shape[1:] == s["mask"].shape == (int(row["height"]), int(row["width"]))
    assert {r for r in ds.rows["split"]} == {"test"}
