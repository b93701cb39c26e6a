"""Training throughput (tiles/s, MP/s): cargoscan's LightningModule step (Dice+Focal, aux head, augmentation
excluded) beside a plain SMP Unet-ResNet34 loop with cross-entropy, in the same run and on the same device.

    PYTHONPATH=src python benchmarks/bench_train.py [--device cuda] [--tile 128] [--batch 16] [--steps 10]
        [--model unet-mobilenet_v2 --encoder-depth 4 --decoder 64,32,16,16]   # the small profile's model
"""

from __future__ import annotations

import argparse
import os
import time

import segmentation_models_pytorch as smp
import torch

from cargoscan.training.module import SegmentationModule


def _time(step, n_steps: int, device: str) -> float:
    step()  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n_steps):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--model", default="unet-resnet18")
    ap.add_argument("--tile", type=int, default=128)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--bf16", action="store_true")
    ap.add_argument("--encoder-depth", type=int, default=5)
    ap.add_argument("--decoder", default="", help="decoder widths, e.g. 64,32,16,16 (default: SMP's)")
    a = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    torch.manual_seed(0)
    k, dev = 8, a.device
    x = torch.randn(a.batch, 3, a.tile, a.tile, device=dev)
    y = torch.randint(0, k, (a.batch, a.tile, a.tile), device=dev)
    lab = torch.randint(0, 2, (a.batch,), device=dev)
    amp = torch.autocast(dev.split(":")[0], dtype=torch.bfloat16, enabled=a.bf16)

    kw = {"encoder_depth": a.encoder_depth} if a.encoder_depth != 5 else {}
    if a.decoder:
        kw["decoder_channels"] = [int(c) for c in a.decoder.split(",")]
    mod = SegmentationModule(a.model, 3, [str(i) for i in range(k)], ["a", "b"], [1.0] * k, model_kwargs=kw).to(dev)
    opt = torch.optim.AdamW(mod.parameters(), 1e-3)

    def ours():
        with amp:
            loss, _, _ = mod._step({"image": x, "mask": y, "label": lab})
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    base = smp.Unet("resnet34", encoder_weights=None, in_channels=3, classes=k).to(dev)
    opt2 = torch.optim.AdamW(base.parameters(), 1e-3)

    def plain():
        with amp:
            loss = torch.nn.functional.cross_entropy(base(x).float(), y)
        opt2.zero_grad(set_to_none=True)
        loss.backward()
        opt2.step()

    mp = a.batch * a.tile * a.tile / 1e6
    for name, fn in ((f"cargoscan {a.model} (Dice+Focal+aux)", ours), ("plain SMP Unet-ResNet34 (CE)", plain)):
        s = _time(fn, a.steps, dev)
        n = a.steps * a.batch
        print(f"{name:40s} {dev}: {n / s:8.1f} tiles/s  {a.steps * mp / s:7.2f} MP/s  "
              f"({a.tile}px tiles, batch {a.batch}, {a.steps} steps)")


if __name__ == "__main__":
    main()
