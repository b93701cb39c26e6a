"""Cargo category: the head alone against the head fused with the load's physics (cargoscan.inspect.fusion).

Fits :class:`~cargoscan.inspect.fusion.CategoryFusion` on the inspections of some archives and scores it on the
inspections of others, per unit (:func:`cargoscan.inspect.units.unit_records`: each container's own blocks, or
the wagon's where an inspection judged it whole, then counting only wagons of one true category). Both rates are
given with their counts and Wilson 95 % intervals; the head's is the arg-max of the unit's head probabilities.

    PYTHONPATH=src python benchmarks/bench_category.py \\
        --train data/bench/mismatch:data/bench/inspections-cpu/mismatch data/bench/shift:data/bench/inspections-cpu/shift \\
        --test data/bench/test:data/bench/inspections-cpu/test
"""

from __future__ import annotations

import argparse
import json
import logging
from collections import Counter
from pathlib import Path

from cargoscan.inspect.fusion import fit_fusion
from cargoscan.inspect.units import unit_records
from cargoscan.training.calibrate import true_units
from cargoscan.scoring.intervals import wilson

log = logging.getLogger("bench_category")


def load(pairs: list[str]) -> tuple[list[dict], list[str], int]:
    """(unit records, true categories, units left out) over ``archive:inspections`` pairs: each unit of a
    complete inspection file with one known true category."""
    records, truth, skipped = [], [], 0
    for pair in pairs:
        archive, inspections = (Path(p) for p in pair.split(":"))
        true = true_units(archive)
        for f in sorted(inspections.glob("*.json")):
            doc = json.loads(f.read_text(encoding="utf-8"))
            for name, rec, _ in unit_records(doc):
                t = true.get((f.stem, name))
                if t is None:
                    skipped += 1
                    continue
                records.append(rec)
                truth.append(t)
    return records, truth, skipped


def rate(k: int, n: int) -> str:
    lo, hi = wilson(k, n)
    return f"{k}/{n} = {k / max(n, 1):.3f} (95 % CI {lo:.3f}–{hi:.3f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--train", nargs="+", required=True, help="archive:inspections pairs to fit on")
    ap.add_argument("--test", nargs="+", required=True, help="archive:inspections pairs to score")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    train, y_train, s_train = load(args.train)
    test, y_test, s_test = load(args.test)
    head = sorted((train[0].get("cargo") or {}).get("probabilities") or {})
    fusion = fit_fusion(train, y_train, head)
    log.info("fitted on %d units (%d left out: no one true category), C = %g, classes %s",
             len(train), s_train, fusion.c, ", ".join(fusion.classes))
    known = [i for i, t in enumerate(y_test) if t in head]      # the benchmark's rule: the head knows the truth
    pred_head = [max(r["cargo"]["probabilities"].items(), key=lambda kv: kv[1])[0] for r in test]
    pred_fused = [max(p.items(), key=lambda kv: kv[1])[0] for p in (fusion.probabilities(r) for r in test)]
    log.info("test: %d units (%d left out), %d of categories the head knows", len(test), s_test, len(known))
    log.info("head:  %s", rate(sum(pred_head[i] == y_test[i] for i in known), len(known)))
    log.info("fused: %s", rate(sum(pred_fused[i] == y_test[i] for i in known), len(known)))
    log.info("fused, every unit (empty ones too): %s",
             rate(sum(p == t for p, t in zip(pred_fused, y_test)), len(y_test)))
    for name, pred in (("head", pred_head), ("fused", pred_fused)):
        errors = Counter((y_test[i], pred[i]) for i in known if pred[i] != y_test[i])
        log.info("%s, commonest confusions (true → predicted): %s", name,
                 "; ".join(f"{t} → {p} {n}" for (t, p), n in errors.most_common(6)))


if __name__ == "__main__":
    main()
