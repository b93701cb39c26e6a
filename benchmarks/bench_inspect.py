"""Benchmarks of the inspection engine (figures are printed, never asserted).

    python benchmarks/bench_inspect.py --mode cpu      # full inspection of a ~3 MP wagon, onnxruntime, 2 threads
    python benchmarks/bench_inspect.py --mode cpu --pitch 0   # ... with the model at full resolution
    python benchmarks/bench_inspect.py --mode memory   # peak RSS: a 40 m scan vs a 13 m scan (subprocesses)
    python benchmarks/bench_inspect.py --mode gpu --device cuda   # wagons/s: batched bf16 channels_last vs eager fp32
    python benchmarks/bench_inspect.py --mode gpu --device cuda --pitch 8 --arch unetplusplus --encoder efficientnet-b0
                                                       # ... with the gpu profile's model shape

``--artifact DIR`` uses an exported model (default ``data/models/export`` when present); otherwise a stand-in
artifact is exported once (SMP ``--arch``/``--encoder``, random weights, the shape of a real one) into the temp
directory. The (λ, Z_eff) decomposer is ``cargoscan.physics.decompose`` when installed, else a stand-in of similar
cost (λ = A_high/μ), which the output says.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROWS, PITCH_ROW, PITCH_COL = 700, 5.0, 3.5      # a ~14 m wagon at 3.5 mm → ~4 000 columns: ~3 MP


class StandInDecomposer:
    def invert(self, a_high, a_low):
        ratio = (a_low + 0.1) / (a_high + 0.1)
        return a_high / 0.04, 6.0 + 40.0 * (ratio - 1.0)

    def material_class(self, zeff):
        z = np.asarray(zeff, np.float32)
        return np.select([z < 10, z < 18, z < 40], ["organic", "mixed", "inorganic"], "heavy")


def decomposer_factory():
    try:
        from cargoscan.inspect.material import default_decomposer

        default_decomposer({})
        return None, "cargoscan.physics.decompose"
    except Exception:
        return (lambda meta: StandInDecomposer()), "stand-in (physics.decompose not installed)"


def ensure_artifact(args) -> Path:
    if args.artifact and Path(args.artifact).exists():
        return Path(args.artifact)
    if Path("data/models/export/config.json").exists() and not args.artifact:
        return Path("data/models/export")
    tile = args.tile or 256
    out = Path(tempfile.gettempdir()) / f"cargoscan-bench-{args.arch}-{args.encoder}-{tile}-{args.pitch:g}"
    if (out / "config.json").exists():
        return out
    import segmentation_models_pytorch as smp
    import torch
    from safetensors.torch import save_file

    from cargoscan.archive.classes import class_names
    from cargoscan.models.artifact import ArtifactConfig, sha256_file

    cats = ("garments", "footwear", "electronics", "machinery", "auto_parts", "tyres", "steel_products", "plastics",
            "furniture", "food", "paper", "chemicals", "bulk_minerals", "liquids")
    out.mkdir(parents=True, exist_ok=True)
    model = smp.create_model(args.arch, encoder_name=args.encoder, encoder_weights=None, in_channels=3,
                             classes=len(class_names()), aux_params={"classes": len(cats)}).eval()
    torch.onnx.export(model, torch.zeros(1, 3, tile, tile), str(out / "model.onnx"),
                      input_names=["image"], output_names=["mask", "label"],
                      dynamic_axes={"image": {0: "n", 2: "h", 3: "w"}, "mask": {0: "n", 2: "h", 3: "w"},
                                    "label": {0: "n"}}, dynamo=False)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(out / "model.safetensors"))
    ArtifactConfig(name=f"bench-{args.arch}-{args.encoder}", version="bench", arch=args.arch, encoder=args.encoder,
                   in_channels=("a_high", "a_low", "ratio"), classes=tuple(class_names()), categories=cats,
                   pitch_mm=(args.pitch, args.pitch) if args.pitch else (PITCH_ROW, PITCH_COL),
                   norm_mean=(1.0, 1.0, 1.0), norm_std=(1.0, 1.0, 0.2), tile=tile, overlap=32,
                   sha256={f: sha256_file(out / f) for f in ("model.onnx", "model.safetensors")}).save(out)
    return out


def write_wagon(directory: Path, i: int, length_m: float, rows: int = ROWS) -> Path:
    """A plausible wagon: floor, walls, cargo blocks of varied density, noise (uint16 TIFF + sidecar)."""
    from cargoscan.archive import write_scan

    rng = np.random.default_rng(i)
    cols = int(length_m * 1000 / PITCH_COL)
    a = np.zeros((rows, cols), np.float32)
    a[int(rows * 0.85):int(rows * 0.9)] = 3.0                 # underframe
    a[int(rows * 0.1):int(rows * 0.85), 20:cols - 20] += 0.25   # walls
    x = 40
    while x < cols - 200:
        w = int(rng.integers(100, 600))
        a[int(rows * rng.uniform(0.15, 0.4)):int(rows * 0.84), x:min(x + w, cols - 40)] += rng.uniform(0.3, 3.0)
        x += w + int(rng.integers(0, 60))
    t = np.exp(-np.stack([a, a * rng.uniform(1.0, 1.3)])) * (1 + rng.normal(0, 0.01, (2, rows, cols)))
    img = np.clip(np.round(t * 65535), 0, 65535).astype(np.uint16)
    sid = f"32701RF0620250218{(1000 + i) % 10000:04d}00{i % 10}"
    directory.mkdir(parents=True, exist_ok=True)
    write_scan(directory / f"{sid}.tiff", img)
    meta = {"schema_version": "1.0", "scan_id": sid, "post_code": "32701", "device_id": "RF06",
            "scanned_at": "2025-02-18T17:47:02+06:00", "energies_mev": [6.0, 4.0],
            "pixel_pitch_mm": {"row": PITCH_ROW, "column": PITCH_COL}, "train_number": "2001",
            "wagon_number": "45488855", "container_numbers": ["CSQU3054383"], "direction": "import",
            "speed_kmh": 5.0}
    (directory / f"{sid}.json").write_text(json.dumps(meta), encoding="utf-8")
    return directory / f"{sid}.tiff"


def decl_rows():
    return [{"pi_number": "PI-1", "train_number": "2001", "wagon_number": "45488855",
             "container_number": "CSQU3054383", "hs_code": "6204", "goods_description": "платья",
             "packages_count": "100", "packaging": "коробки", "gross_weight_kg": "21000", "net_weight_kg": "20000",
             "consignor": "A", "consignee": "B"}]


def bench_cpu(args) -> None:
    from cargoscan.inspect import InspectParams, Inspector

    artifact = ensure_artifact(args)
    factory, dname = decomposer_factory()
    params = InspectParams(threads=args.threads, timeout_s=600, required_checks=())
    insp = Inspector.load(artifact, params, decomposer_factory=factory)
    assert insp.backend is not None, insp.load_error
    tmp = Path(tempfile.mkdtemp(prefix="bench-inspect-"))
    scan = write_wagon(tmp, 1, 14.0)
    insp.inspect(scan, decl_rows())   # warm-up
    times, segs, cpu = [], [], []
    for _ in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = insp.inspect(scan, decl_rows())
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        segs.append(out.provenance["timings_ms"].get("segmentation", float("nan")) / 1000)
    mp = ROWS * int(14.0 * 1000 / PITCH_COL) / 1e6
    print(f"CPU full inspection, {mp:.2f} MP wagon, model {insp.model_info()['name']} at "
          f"{insp.cfg.pitch_mm} mm (tile {insp.cfg.tile}), onnxruntime {args.threads} threads, decomposer: {dname}")
    print(f"  wall p50 {statistics.median(times):.2f} s   p90 {np.percentile(times, 90):.2f} s   "
          f"(segmentation p50 {statistics.median(segs):.2f} s; n={len(times)}; complete={out.complete})")
    print(f"  CPU time p50 {statistics.median(cpu):.2f} s (÷{args.threads} threads = wall on idle cores, at best); "
          f"load average {os.getloadavg()[0]:.1f}")


def bench_memory(args) -> None:
    artifact = ensure_artifact(args)
    tmp = Path(tempfile.mkdtemp(prefix="bench-inspect-mem-"))
    print("Peak RSS of one inspection in a fresh process (onnxruntime):")
    for length in (13.0, 40.0):
        scan = write_wagon(tmp, int(length), length)
        res = subprocess.run([sys.executable, __file__, "--child-memory", str(scan), "--artifact", str(artifact),
                              "--threads", str(args.threads)], capture_output=True, text=True)
        if res.returncode != 0:
            print(res.stderr[-2000:])
            continue
        base, peak, secs = json.loads(res.stdout.strip().splitlines()[-1])
        cols = int(length * 1000 / PITCH_COL)
        print(f"  {length:4.0f} m ({ROWS}×{cols}, {ROWS * cols / 1e6:.1f} MP): peak {peak:.0f} MiB, "
              f"after model load {base:.0f} MiB, inspection adds {peak - base:.0f} MiB, {secs:.1f} s")


def child_memory(args) -> None:
    from cargoscan.inspect import InspectParams, Inspector

    factory, _ = decomposer_factory()
    insp = Inspector.load(args.artifact, InspectParams(threads=args.threads, timeout_s=600), decomposer_factory=factory)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    insp.inspect(args.child_memory, decl_rows())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps([base, peak, time.perf_counter() - t0]))


def bench_gpu(args) -> None:
    import concurrent.futures as cf

    import torch

    from cargoscan.archive import read_scan, read_sidecar
    from cargoscan.archive.classes import load_classes
    from cargoscan.data.channels import input_channels
    from cargoscan.inspect.findings import risk_areas, unit_spans
    from cargoscan.inspect.gpu import segment_batch
    from cargoscan.inspect.runtime import TorchBackend
    from cargoscan.models.artifact import ArtifactConfig

    artifact = ensure_artifact(args)
    cfg = ArtifactConfig.load(artifact)
    dev = args.device
    tmp = Path(tempfile.mkdtemp(prefix="bench-inspect-gpu-"))
    files = [write_wagon(tmp, i, args.length, args.rows) for i in range(args.distinct)]
    paths = [files[i % len(files)] for i in range(args.wagons)]
    threat = np.array([c.threat for c in load_classes() if c.name in cfg.classes])
    mean = np.asarray(cfg.norm_mean, np.float32)[:, None, None]
    std = np.asarray(cfg.norm_std, np.float32)[:, None, None]
    pitch = (PITCH_ROW, PITCH_COL)

    def load(p):
        img = read_scan(p)
        meta = read_sidecar(p.with_suffix(".json"))
        x = (input_channels(img, pitch, tuple(cfg.pitch_mm), tuple(cfg.in_channels)) - mean) / std
        return torch.from_numpy(x).pin_memory() if dev == "cuda" else torch.from_numpy(x), meta, img.shape[1:]

    def post(labels, meta, shape):
        units = unit_spans(np.zeros(labels.shape, np.float32), meta["container_numbers"], meta["wagon_number"])
        return risk_areas(labels, np.ones(labels.shape, np.float16), cfg.classes, threat, shape, pitch,
                          tuple(cfg.pitch_mm), units)[0]

    def sync():
        if dev == "cuda":
            torch.cuda.synchronize()

    torch.backends.cudnn.benchmark = True
    fast = TorchBackend(artifact, cfg, device=dev, bf16=True, channels_last=True)
    plain = TorchBackend(artifact, cfg, device=dev, bf16=False, channels_last=False)

    def run_fast():
        done = 0
        with cf.ThreadPoolExecutor(args.workers) as pool, cf.ThreadPoolExecutor(args.workers) as post_pool:
            futs = [pool.submit(load, p) for p in paths]
            posts = []
            for g in range(0, len(futs), args.group):
                items = [f.result() for f in futs[g:g + args.group]]
                x = torch.stack([it[0] for it in items]).to(dev, non_blocking=True)
                labels, _ = segment_batch(x, fast.forward, cfg, args.tile or cfg.tile, cfg.overlap, args.batch,
                                          threat)
                labels = labels.cpu().numpy()
                posts += [post_pool.submit(post, labels[i], it[1], it[2]) for i, it in enumerate(items)]
            for p in posts:
                p.result()
                done += 1
        sync()
        return done

    @torch.inference_mode()
    def run_plain():
        for p in paths:
            x, meta, shape = load(p)
            x = x[None].to(dev)
            h, w = x.shape[2:]
            x = torch.nn.functional.pad(x, (0, (-w) % 32, 0, (-h) % 32), mode="replicate")
            mask, _ = plain.model(x)
            labels = mask[:, :, :h, :w].softmax(1).argmax(1).to(torch.uint8).cpu().numpy()[0]
            post(labels, meta, shape)
        sync()
        return len(paths)

    for name, fn in (("optimised: batched tiles, bf16, channels_last, threaded I/O", run_fast),
                     ("plain eager fp32 SMP, whole wagon, one at a time", run_plain)):
        old = paths[:]
        paths[:] = old[: max(args.group, 4)]
        fn()                                            # warm-up (cudnn autotune, allocator)
        paths[:] = old
        t0 = time.perf_counter()
        n = fn()
        dt = time.perf_counter() - t0
        print(f"  {name}: {n / dt:.1f} wagons/s ({n} wagons of {args.rows}×{int(args.length * 1000 / PITCH_COL)}, "
              f"{dt:.2f} s, device {dev})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["cpu", "memory", "gpu", "all"], default="cpu")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--artifact", default="")
    ap.add_argument("--arch", default="unet")
    ap.add_argument("--encoder", default="resnet18")
    ap.add_argument("--tile", type=int, default=0, help="tile side (0: the artifact's; 256 for the stand-in)")
    ap.add_argument("--pitch", type=float, default=20.0,
                    help="stand-in model pitch (mm); 20 = the small profile's, 0 = the scan's (full resolution)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--wagons", type=int, default=512, help="gpu: wagons per timed run")
    ap.add_argument("--distinct", type=int, default=16, help="gpu: distinct scan files cycled through")
    ap.add_argument("--group", type=int, default=16, help="gpu: wagons per device batch")
    ap.add_argument("--batch", type=int, default=256, help="gpu: tiles per forward")
    ap.add_argument("--workers", type=int, default=12, help="gpu: loader threads")
    ap.add_argument("--rows", type=int, default=ROWS)
    ap.add_argument("--length", type=float, default=14.0, help="gpu: wagon length in metres")
    ap.add_argument("--child-memory", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_memory:
        return child_memory(args)
    if args.mode in ("cpu", "all"):
        bench_cpu(args)
    if args.mode in ("memory", "all"):
        bench_memory(args)
    if args.mode == "gpu" or (args.mode == "all" and args.device == "cuda"):
        print(f"GPU mode ({args.device}):")
        bench_gpu(args)


if __name__ == "__main__":
    main()
