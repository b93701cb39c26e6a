from pathlib import Path

import pytest
from typer.testing import CliRunner

from cargoscan.cli import app as cli_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app():
    return cli_app   # the real `cargoscan` command


def test_report_command_passes_params_and_overrides(app, monkeypatch, tmp_path):
    import cargoscan.reports.render as render_mod

    seen = {}

    def fake_render(params, names=None, cwd=None):
        seen["params"], seen["names"] = params, names
        out = tmp_path / "dataset.html"
        out.write_text("<html></html>")
        return {"dataset": out}

    monkeypatch.setattr(render_mod, "render", fake_render)
    result = CliRunner().invoke(app, ["report", "--params", str(ROOT / "params.yaml"), "--only", "dataset",
                                      "--archive", "elsewhere/raw"])
    assert result.exit_code == 0, result.output
    assert seen["names"] == ("dataset",)
    assert seen["params"].archive == "elsewhere/raw" and seen["params"].kernel == "python3"
    assert "dataset.html" in result.output


def test_report_command_refuses_unknown_notebooks(app):
    result = CliRunner().invoke(app, ["report", "--params", str(ROOT / "params.yaml"), "--only", "nope"])
    assert result.exit_code != 0 and "unknown notebooks" in result.output


def test_ensure_kernel_installs_when_missing(monkeypatch):
    import sys

    import ipykernel.kernelspec
    import jupyter_client.kernelspec as ks

    from cargoscan.reports.render import ensure_kernel

    def missing(self, name):
        raise ks.NoSuchKernel(name)

    calls = {}
    monkeypatch.setattr(ks.KernelSpecManager, "get_kernel_spec", missing)
    monkeypatch.setattr(ipykernel.kernelspec, "install", lambda **kw: calls.update(kw) or "/k")
    assert ensure_kernel("python3") == "/k"
    assert calls == {"kernel_name": "python3", "prefix": sys.prefix}
