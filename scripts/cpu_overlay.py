"""Write the parameter file of the `cpu` reference run: params.yaml with `profile: cpu` and every output moved
under data/models/cpu and reports/cpu, so the reference result sits beside the default (small) pipeline's
outputs instead of over them (`make cpu-reference`)."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml


def overlay(src: Path, dst: Path) -> None:
    d = yaml.safe_load(src.read_text(encoding="utf-8"))
    d["profile"] = "cpu"
    d["train"].update(out_dir="data/models/cpu/train", checkpoint_dir="data/models/cpu/checkpoints")
    d["evaluate"].update(model_dir="data/models/cpu/train", reports_dir="reports/cpu")
    d["export"].update(model_dir="data/models/cpu/train", reports_dir="reports/cpu", out_dir="data/models/cpu/export",
                       register=False)
    d["inspect"]["references_dir"] = "data/models/cpu/references"
    d["bench"].update(artifact="data/models/cpu/export", report="reports/cpu/benchmark.json")
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(yaml.safe_dump(d, sort_keys=False, allow_unicode=True), encoding="utf-8")


if __name__ == "__main__":
    overlay(Path(sys.argv[1]), Path(sys.argv[2]))
