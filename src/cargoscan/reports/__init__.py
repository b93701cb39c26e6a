"""Reviewer reports: thin parameterised notebooks rendered by papermill + nbconvert.

The notebooks in ``notebooks/`` hold a ``parameters`` cell and calls into this package:

* ``sources``    – the ONE place that reads other parts' outputs (archive, metrics.json, inspections, model
                   card) into pandas DataFrames; align field names here when a producer changes.
* ``dataset``    – what the archive holds: contents, class balance, concealment sites, weights, realism.
* ``evaluation`` – the model against truth and declarations: IoU, detection/false alarms, mass, mismatches.
* ``batch``      – a shift's trains: decisions, corridors, risk areas, timings.
* ``figures``    – matplotlib helpers (overlays, ROC, reliability, confusion, gallery), PNG export.
* ``render``     – papermill execution, kernel check and nbconvert HTML without code cells.
"""
