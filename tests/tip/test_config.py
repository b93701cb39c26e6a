import pytest

from cargoscan.config import ConfigError, load_section
from cargoscan.tip.config import TipParams


def test_repository_params_load():
    p = load_section(TipParams, "tip")
    assert 0 <= p.mix_ratio < 1 and p.threats_per_scan[0] <= p.threats_per_scan[1]


@pytest.mark.parametrize(
    "body,error",
    [
        ("tip: {mix_ratio: 1.5}", ValueError),
        ("tip: {threats: [bazooka]}", ValueError),
        ("tip: {threats_per_scan: [3, 1]}", ValueError),
        ("tip: {colour: red}", ConfigError),
    ],
)
def test_bad_params_refused(tmp_path, body, error):
    (tmp_path / "params.yaml").write_text(body + "\n")
    with pytest.raises(error):
        load_section(TipParams, "tip", tmp_path / "params.yaml")
