"""The CLI commands end to end on the stub artifact (the real physics may be absent: then fail-closed)."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from cargoscan.archive import write_table
from cargoscan.inspect import commands
from tests.inspect.conftest import declaration_row, make_scan, true_net_kg

runner = CliRunner()
# The commands on an app of their own: cargoscan.cli also loads the other parts' commands.
app = typer.Typer()
commands.register(app)


def test_inspect_writes_json_html_pdf(tmp_path, artifact, library):
    scan = make_scan(tmp_path / "raw", 51, drugs=(300, 25, 330, 85))
    decl = tmp_path / "decl.json"
    decl.write_text(json.dumps(declaration_row(true_net_kg()), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(scan), "--declaration", str(decl), "--artifact", str(artifact),
                              "--out", str(out), "--references", str(library), "--params", str(tmp_path / "none")])
    assert res.exit_code == 0, res.output
    for ext in ("json", "html", "pdf", "png"):
        assert (out / f"{scan.stem}.{ext}").stat().st_size > 0
    doc = json.loads((out / f"{scan.stem}.json").read_text(encoding="utf-8"))
    assert doc["suspicious"] and any(a["class"] == "drugs" for a in doc["risk_areas"])
    assert doc["declaration"]["pi_numbers"] == ["PI-0001"]


def test_references_and_inspect_archive_commands(tmp_path, artifact, archive):
    lib = tmp_path / "refs"
    res = runner.invoke(app, ["references", str(archive), "--artifact", str(artifact), "--out", str(lib),
                              "--params", str(tmp_path / "none")])
    assert res.exit_code == 0, res.output
    assert (lib / "library.npz").exists() and json.loads((lib / "library.json").read_text())["counts"] == {
        "garments": 3}
    write_table(archive / "declarations.csv", [declaration_row(true_net_kg())])
    out = tmp_path / "insp"
    res = runner.invoke(app, ["inspect-archive", str(archive), "--out", str(out), "--artifact", str(artifact),
                              "--references", str(lib), "--params", str(tmp_path / "none")])
    assert res.exit_code == 0, res.output
    assert "3 inspected" in res.output
    assert len(list(out.glob("*.json"))) == 3 and (out / "summary.csv").exists()


def test_inspect_finds_the_archive_declarations(tmp_path, artifact, library):
    root = tmp_path / "raw"
    scan = make_scan(root, 52)
    write_table(root / "declarations.csv", [declaration_row(true_net_kg())])
    out = tmp_path / "out"
    res = runner.invoke(app, ["inspect", str(scan), "--artifact", str(artifact), "--out", str(out),
                              "--references", str(library), "--params", str(tmp_path / "none")])
    assert res.exit_code == 0, res.output
    doc = json.loads((out / f"{scan.stem}.json").read_text(encoding="utf-8"))
    assert doc["declaration"]["pi_numbers"] == ["PI-0001"]
