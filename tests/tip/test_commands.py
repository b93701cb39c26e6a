import csv

import numpy as np
import pytest
from typer.testing import CliRunner

from cargoscan.archive import ArchivePaths, load_sample
from cargoscan.cli import app as cli_app
from tests.tip.conftest import plausible_wagon

from .test_importer import AIR, export

runner = CliRunner()


@pytest.fixture
def wagon() -> np.ndarray:
    """A wagon the import's validity check accepts at the 5 mm pitch these tests pass."""
    return plausible_wagon()


@pytest.fixture
def app():
    return cli_app   # the real `cargoscan` command


BASE = [
    "--high-channel",
    "1",
    "--air-value",
    str(AIR),
    "--rail-at-top",
    "--pitch-row-mm",
    "5",
    "--pitch-column-mm",
    "5",
]
META = [
    "--post",
    "32701",
    "--device",
    "RF06",
    "--scanned-at",
    "2025-02-18T17:47:02+05:00",
    "--train",
    "2001",
    "--direction",
    "import",
    "--speed-kmh",
    "7.5",
    "--energies-mev",
    "6,4",
]


def test_import_command(tmp_path, app, wagon):
    np.save(tmp_path / "s.npy", export(wagon))
    res = runner.invoke(app, ["import", str(tmp_path / "s.npy"), *BASE, *META, "--out", str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    assert ArchivePaths(tmp_path / "a").scan_ids() == ["32701RF06202502181747020"]


def test_import_command_refuses_with_the_option_to_pass(tmp_path, app, wagon):
    np.save(tmp_path / "s.npy", export(wagon))
    args = [a if a != "--rail-at-top" else "--rail-at-bottom" for a in BASE]
    res = runner.invoke(app, ["import", str(tmp_path / "s.npy"), *args, *META, "--out", str(tmp_path / "a")])
    assert res.exit_code == 1
    assert "--rail-at-top" in res.output   # the user is told which option to pass
    assert ArchivePaths(tmp_path / "a").scan_ids() == []


def test_import_requires_what_it_cannot_infer(tmp_path, app, wagon):
    np.save(tmp_path / "s.npy", export(wagon))
    res = runner.invoke(app, ["import", str(tmp_path / "s.npy"), *META])
    assert res.exit_code != 0
    assert "Missing option" in res.output


def test_import_from_metadata_csv(tmp_path, app, wagon):
    np.save(tmp_path / "s1.npy", export(wagon))
    np.save(tmp_path / "s2.npy", export(wagon))
    with (tmp_path / "meta.csv").open("w", newline="") as fh:
        w = csv.DictWriter(
            fh,
            [
                "file",
                "post_code",
                "device_id",
                "scanned_at",
                "seq",
                "train_number",
                "direction",
                "speed_kmh",
                "energies_mev",
                "container_numbers",
            ],
        )
        w.writeheader()
        for i, f in enumerate(["s1.npy", "s2.npy"]):
            w.writerow(
                {
                    "file": f,
                    "post_code": "32701",
                    "device_id": "RF06",
                    "seq": i,
                    "scanned_at": "2025-02-18T17:47:02+05:00",
                    "train_number": "2001",
                    "direction": "export",
                    "speed_kmh": 8,
                    "energies_mev": "6,4",
                    "container_numbers": "CSQU3054383",
                }
            )
    res = runner.invoke(
        app, ["import", *BASE, "--meta", str(tmp_path / "meta.csv"), "--out", str(tmp_path / "a")]
    )
    assert res.exit_code == 0, res.output
    ids = ArchivePaths(tmp_path / "a").scan_ids()
    assert len(ids) == 2
    assert load_sample(tmp_path / "a", ids[1])["meta"]["container_numbers"] == ["CSQU3054383"]


def test_tip_command(tmp_path, app, wagon):
    np.save(tmp_path / "s.npy", export(wagon))
    assert (
        runner.invoke(
            app, ["import", str(tmp_path / "s.npy"), *BASE, *META, "--out", str(tmp_path / "a")]
        ).exit_code
        == 0
    )
    (tmp_path / "params.yaml").write_text("tip:\n  threats: [pistol]\n  threats_per_scan: [1, 1]\n")
    res = runner.invoke(
        app,
        ["tip", str(tmp_path / "a"), "--out", str(tmp_path / "t"), "--params", str(tmp_path / "params.yaml")],
    )
    assert res.exit_code == 0, res.output
    (scan_id,) = ArchivePaths(tmp_path / "t").scan_ids()
    sample = load_sample(tmp_path / "t", scan_id, labels=True)
    assert sample["meta"]["source"]["kind"] == "tip" and sample["instances"][0]["class"] == "weapon"
