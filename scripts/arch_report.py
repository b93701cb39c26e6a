"""Report the shape of cargoscan's imports: module-level import cycles (with their members), imports against
the layering, the subpackage graph and the longest functions in src/. Read with ``ast``, nothing imported.

    python scripts/arch_report.py

The measurement and the layering (``LAYERS``) are defined once, in tests/test_architecture.py, whose tests
hold the counts to ceilings.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.test_architecture import report  # noqa: E402

if __name__ == "__main__":
    print(report())
