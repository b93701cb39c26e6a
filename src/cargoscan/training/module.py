"""The LightningModule: an SMP model from the registry, Dice+Focal loss, per-class IoU/Dice (torchmetrics) and
the auxiliary cargo-category head."""

from __future__ import annotations

import math
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score, MulticlassJaccardIndex

from cargoscan.archive.classes import threat_ids
from cargoscan.models.registry import create_model
from cargoscan.data.dataset import NO_LABEL
from cargoscan.training.losses import IGNORE_INDEX, SegmentationLoss, to_multilabel


class SegmentationModule(L.LightningModule):
    """Segmentation (K classes) plus cargo category (M categories).

    Per-class Dice is the pixel-level F1 score (they are the same quantity), both aggregated over all pixels of
    the epoch, so a class rare in one batch is not averaged away.
    """

    def __init__(self, model_name: str, in_channels: int, classes: list[str], categories: list[str],
                 class_weights: list[float], multilabel: bool = False, lr: float = 2e-3, weight_decay: float = 1e-4,
                 dice_weight: float = 1.0, focal_weight: float = 1.0, focal_gamma: float = 2.0,
                 aux_weight: float = 0.2, channels_last: bool = False, model_kwargs: dict[str, Any] | None = None,
                 any_threat_weight: float = 0.0, any_threat_pos_weight: float = 5.0):
        super().__init__()
        self.save_hyperparameters()
        k, m = len(classes), max(1, len(categories))
        self.model = create_model(model_name, in_channels=in_channels, num_classes=k, num_categories=m,
                                  **(model_kwargs or {}))
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        threat = [i for i in threat_ids() if i < k]
        self.loss = SegmentationLoss(class_weights, multilabel, dice_weight, focal_weight, focal_gamma, threat,
                                     any_threat_weight, any_threat_pos_weight)
        self.val_iou = MulticlassJaccardIndex(k, average="none", ignore_index=IGNORE_INDEX)
        self.val_dice = MulticlassF1Score(k, average="none", multidim_average="global", ignore_index=IGNORE_INDEX)
        self.val_cat = MulticlassAccuracy(m, average="micro", ignore_index=NO_LABEL)
        self.overlay: dict[str, Any] | None = None  # first validation batch, for the overlay figure
        self.hard_negatives = None                  # cargoscan.training.datamodule.HardNegatives, set by train()
        self.projected_instances = 0                # threat instances projected into the training samples so far

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.hparams.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.model(x)

    def probabilities(self, logits: torch.Tensor) -> torch.Tensor:
        """Class scores in [0, 1]: softmax over classes, or per-class sigmoids in the multi-label mode."""
        return torch.sigmoid(logits) if self.hparams.multilabel else torch.softmax(logits, dim=1)

    def _step(self, batch: dict[str, Any]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        logits, cat_logits = self(batch["image"])
        k = logits.shape[1]
        target = to_multilabel(batch["mask"], k) if self.hparams.multilabel else batch["mask"]
        seg = self.loss(logits, target)
        known = batch["label"] != NO_LABEL
        # Tiles of real scans have no cargo category; a batch of only those has no category loss (not NaN).
        aux = F.cross_entropy(cat_logits.float()[known], batch["label"][known]) if bool(known.any()) \
            else cat_logits.sum() * 0.0
        return seg + self.hparams.aux_weight * aux, logits, cat_logits

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> torch.Tensor:
        loss, logits, _ = self._step(batch)
        self.log("train_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(batch["image"]),
                 sync_dist=True)
        meta = batch.get("meta") or {}
        if "n_threats" in meta:
            self.projected_instances += int(torch.as_tensor(meta["n_threats"]).sum())
            self.log("projected_instances", float(self.projected_instances), on_step=False, on_epoch=True,
                     reduce_fx="max")
        if self.hard_negatives is not None and "key" in meta:
            self._record_hardness(batch, logits)
        return loss

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint["projected_instances"] = self.projected_instances

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        self.projected_instances = int(checkpoint.get("projected_instances", 0))

    @torch.no_grad()
    def _record_hardness(self, batch: dict[str, Any], logits: torch.Tensor) -> None:
        """The highest threat probability on each clean prepared tile of the batch, for the hard-negative replay."""
        threat = torch.as_tensor(threat_ids(), device=logits.device)
        p = self.probabilities(logits.float())[:, threat]
        p_any = 1 - torch.prod(1 - p, dim=1) if self.hparams.multilabel else p.sum(1)
        top = p_any.flatten(1).amax(1)
        clean = ~torch.isin(batch["mask"], threat).flatten(1).any(1)
        keys = torch.as_tensor(batch["meta"]["key"], device=logits.device)
        self.hard_negatives.update(keys[clean], top[clean])

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        loss, logits, cat_logits = self._step(batch)
        pred = logits.argmax(1)
        self.val_iou.update(pred, batch["mask"])
        self.val_dice.update(pred, batch["mask"])
        self.val_cat.update(cat_logits.argmax(1), batch["label"])
        self.log("val_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(batch["image"]),
                 sync_dist=True)
        if batch_idx == 0:
            self.overlay = {"image": batch["image"].detach().float().cpu(), "mask": batch["mask"].cpu(),
                            "pred": pred.cpu(), "meta": batch["meta"]}

    def on_validation_epoch_end(self) -> None:
        iou, dice = self.val_iou.compute(), self.val_dice.compute()
        names = self.hparams.classes
        for i, name in enumerate(names):
            self.log(f"val_iou_{name}", iou[i], sync_dist=True)
            self.log(f"val_dice_{name}", dice[i], sync_dist=True)
        self.log("val_miou", iou.mean(), prog_bar=True, sync_dist=True)
        self.log("val_category_acc", self.val_cat.compute(), sync_dist=True)
        for metric in (self.val_iou, self.val_dice, self.val_cat):
            metric.reset()

    def configure_optimizers(self) -> dict[str, Any]:
        opt = torch.optim.AdamW(self.parameters(), lr=self.hparams.lr, weight_decay=self.hparams.weight_decay)
        total = max(1, int(self.trainer.estimated_stepping_batches))
        warm = max(1, total // 10)

        def factor(step: int) -> float:
            # Linear warm-up, then cosine to 1 %; past the planned end (a resume with more epochs) it stays at 1 %.
            if step < warm:
                return (step + 1) / warm
            t = min(1.0, (step - warm) / max(1, total - warm))
            return 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * t))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, factor)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
