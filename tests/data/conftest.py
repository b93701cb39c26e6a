import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("cargoscan_tests_tiny", Path(__file__).with_name("tiny.py"))
tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny)


@pytest.fixture(scope="session")
def tiny_raw(tmp_path_factory):
    """A valid 12-scan archive (6 trains × 2 wagons); do not modify it (copy it first)."""
    return tiny.make_tiny_archive(tmp_path_factory.mktemp("raw"))


@pytest.fixture(scope="session")
def tiny_prepared(tiny_raw, tmp_path_factory):
    from cargoscan.data.config import PrepareParams
    from cargoscan.data.prepare import prepare

    out = tmp_path_factory.mktemp("prepared")
    prepare(PrepareParams(raw_dir=str(tiny_raw), out_dir=str(out), pitch_mm=(10.0, 10.0), tile=64, overlap=16))
    return out
