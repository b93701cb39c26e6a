import importlib.util
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location("cargoscan_tests_tiny",
                                               Path(__file__).parents[1] / "data" / "tiny.py")
tiny = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tiny)


@pytest.fixture(scope="session")
def tiny_prepared_train(tmp_path_factory):
    """A tiny archive, prepared at its own pitch with 64-px tiles (train/val/test by train)."""
    from cargoscan.data.config import PrepareParams
    from cargoscan.data.prepare import prepare

    raw = tiny.make_tiny_archive(tmp_path_factory.mktemp("raw"))
    out = tmp_path_factory.mktemp("prepared")
    prepare(PrepareParams(raw_dir=str(raw), out_dir=str(out), pitch_mm=(10.0, 10.0), tile=64, overlap=16))
    return out
