"""The deployable inspection engine: scan + declaration → decision, risk areas, findings and a conclusion.

Stand-alone at inference: onnxruntime on the CPU (PyTorch only for the ``torch`` backend on a GPU); no
Lightning, DVC or MLflow.

    from cargoscan.inspect import Inspector
    inspector = Inspector.load("data/models/export")          # verifies the model's sha256; never raises
    inspection = inspector.inspect("data/raw/scans/<scan_id>.tiff", declaration_rows)   # never raises
    inspection.decision                                        # «Контроль ИДК, под подозрением» / «…без подозрения»

Command line::

    cargoscan references data/raw --out data/references          # reference library (DVC stage `references`)
    cargoscan inspect data/raw/scans/<scan_id>.tiff --out DIR     # JSON + HTML + PDF conclusion (+ marked PNG)
    cargoscan inspect-archive data/raw --out data/inspections     # resumable batch, summary.csv

Modules: ``config`` (the ``inspect:`` parameters), ``result`` (contract B, reason codes, the decision rule),
``runtime`` (backends), ``tiling`` (streamed tiled inference), ``gpu`` (batched GPU segmentation), ``findings``
(risk areas, container spans), ``material`` (λ, Z_eff, mass, density), ``declarations`` (HS → category),
``references`` (library and similarity), ``conclusion`` (the form), ``engine`` (the Inspector), ``batch``.
"""

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.engine import Inspector
from cargoscan.inspect.result import CLEAR, SUSPICIOUS, Inspection, decide

__all__ = ["CLEAR", "SUSPICIOUS", "InspectParams", "Inspection", "Inspector", "decide"]
