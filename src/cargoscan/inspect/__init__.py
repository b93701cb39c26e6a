"""The deployable inspection engine: scan + declaration → decision, risk areas, findings and a conclusion.

Stand-alone at inference: onnxruntime on the CPU (PyTorch only for the GPU backend); no Lightning, DVC or MLflow.

    from cargoscan.inspect import Inspector
    inspector = Inspector.load("data/models/export")
    inspection = inspector.inspect("data/raw/scans/<scan_id>.tiff", declaration_rows)
"""

from cargoscan.inspect.config import InspectParams
from cargoscan.inspect.engine import Inspector
from cargoscan.inspect.result import CLEAR, SUSPICIOUS, Inspection, decide

__all__ = ["CLEAR", "SUSPICIOUS", "InspectParams", "Inspection", "Inspector", "decide"]
