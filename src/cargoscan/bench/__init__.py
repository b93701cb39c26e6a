"""The detection benchmark: stratified archives with seeds of their own, scored through the inspection engine.

    cargoscan bench-synth      # data/bench/val (operating point, calibration) and data/bench/test (the benchmark)
    cargoscan benchmark        # the engine over data/bench/test → reports/benchmark.json, benchmark_scores.csv

Modules: ``config`` (the ``bench:`` parameters and the derived seeds), ``archive`` (stratified plans, rendered by
the synthesiser), ``score`` (the deployment engine over an archive, one row per wagon, resumable), ``report``
(rates with Wilson intervals, AUROC with a bootstrap interval, calibration), ``commands`` (the CLI).
"""
