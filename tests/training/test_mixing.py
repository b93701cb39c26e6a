"""TIP'd 'real' scans mixed into prepared data: 255 marks unlabelled wagon pixels, and losses, metrics and the
category head leave those (and the unknown category) out."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from cargoscan.archive import ArchivePaths
from cargoscan.data.dataset import IGNORE_INDEX, NO_LABEL, TileDataset
from cargoscan.training.module import SegmentationModule

from .conftest import TINY_MODEL


def test_prepare_mixes_tip_scans_with_unlabelled_pixels(mixed_prepared, real_archives, tiny_trains_archive):
    index = pd.read_csv(mixed_prepared / "index.csv", dtype=str, keep_default_na=False)
    tip_ids = set(ArchivePaths(real_archives["tip"]).scan_ids())
    tip_rows = index[index["source"] == "tip"]
    # ratio 0.5 over 6 synthetic scans asks for 6 TIP'd scans: all there are.
    assert set(tip_rows["scan_id"]) == tip_ids
    assert len(index) == len(ArchivePaths(tiny_trains_archive).scan_ids()) + len(tip_ids)
    assert (tip_rows["category"] == "").all() and (tip_rows["has_threat"] == "1").all()
    assert index.groupby("train_number")["split"].nunique().max() == 1
    mask = np.load(mixed_prepared / "scans" / f"{tip_rows['scan_id'].iloc[0]}.mask.npy")
    assert (mask == IGNORE_INDEX).any() and (mask == 0).any()  # unknown wagon, known air
    stats = json.loads((mixed_prepared / "stats.json").read_text())
    assert "" not in stats["categories"] and stats["sources"] and stats["mix_ratio"] == 0.5
    counted = sum(sum(v.values()) for v in stats["class_pixels"].values())
    total = sum(np.load(f).size - int((np.load(f) == IGNORE_INDEX).sum())
                for f in (mixed_prepared / "scans").glob("*.mask.npy"))
    assert counted == total  # every labelled pixel is counted once, 255 never


def _batch(prepared, split="train"):
    ds = TileDataset(prepared, split)
    real = [i for i, s in enumerate(ds.tiles["scan_id"]) if ds.labels[i] == NO_LABEL
            and (ds[i]["mask"] == IGNORE_INDEX).any()]
    synthetic = [i for i, lab in enumerate(ds.labels) if lab != NO_LABEL]
    return ds, real, synthetic


@pytest.mark.slow
def test_unlabelled_pixels_and_unknown_categories_do_not_move_the_loss(mixed_prepared):
    ds, real, synthetic = _batch(mixed_prepared)
    if not real:  # the TIP'd trains all went to other splits; look there
        for split in ("val", "test"):
            ds, real, synthetic = _batch(mixed_prepared, split)
            if real:
                break
    assert real, "no TIP'd tile with unlabelled pixels"
    stats = ds.data.stats
    torch.manual_seed(0)
    module = SegmentationModule("unet-resnet18", in_channels=3, classes=stats["classes"],
                                categories=stats["categories"], class_weights=stats["class_weights"],
                                model_kwargs={k: v for k, v in TINY_MODEL.items() if k not in ("arch", "encoder")})
    batch = torch.utils.data.default_collate([ds[real[0]]])
    loss, logits, _ = module._step(batch)
    assert torch.isfinite(loss) and batch["label"][0] == NO_LABEL
    # Whatever the network says on unlabelled pixels, the loss stays the same.
    ignored = batch["mask"] == IGNORE_INDEX
    with torch.no_grad():
        base = module.loss(logits, batch["mask"])
        changed = logits.clone()
        changed[ignored.unsqueeze(1).expand_as(changed)] += 5.0 * torch.randn(int(ignored.sum()) * logits.shape[1])
        assert torch.allclose(module.loss(changed, batch["mask"]), base, atol=1e-5)
    # The validation metrics take a batch with 255 and an unknown category without complaint.
    module.validation_step(batch, 0)
    assert torch.isfinite(module.val_iou.compute()).any()
