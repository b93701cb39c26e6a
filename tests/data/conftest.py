import pytest

#: Coarse enough to keep the tests fast, fine enough that every threat of the tiny archive keeps some pixels.
PITCH = (20.0, 20.0)


@pytest.fixture(scope="session")
def tiny_prepared(tiny_trains_archive, tmp_path_factory):
    """``tiny_trains_archive`` prepared with 64-px tiles: one train per split."""
    from cargoscan.data.config import PrepareParams
    from cargoscan.data.prepare import prepare

    out = tmp_path_factory.mktemp("prepared")
    prepare(PrepareParams(raw_dir=str(tiny_trains_archive), out_dir=str(out), pitch_mm=PITCH, tile=64, overlap=16))
    return out
