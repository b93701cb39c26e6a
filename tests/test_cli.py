"""The CLI: every failure is one clear line on standard error and a non-zero exit; ``--debug`` shows the traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cargoscan.archive import ArchiveError, write_json, write_scan
from cargoscan.cli import EXIT_ERROR, EXIT_INTERNAL, app, error_line
from tests.inspect.conftest import artifact  # noqa: F401  (fixture: a tiny exported model)

SCAN_ID = "32701RF06202502181747029"


@pytest.fixture()
def work(tmp_path, monkeypatch):
    """A working folder with malformed inputs of every kind, and a well-formed scan."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "null.json").write_text("null", encoding="utf-8")
    (tmp_path / "list.json").write_text("[1, 2]", encoding="utf-8")
    (tmp_path / "deep.json").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    (tmp_path / "cp1251.csv").write_bytes("pi_number\nПИ-1\n".encode("cp1251"))
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not a workbook")
    (tmp_path / "other.csv").write_text("pi_number,hs_code\nPI-1,62\n", encoding="utf-8")
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "scans").mkdir()
    write_scan(tmp_path / "scans" / f"{SCAN_ID}.tiff", np.full((2, 8, 16), 65535, np.uint16))
    write_json(tmp_path / "scans" / f"{SCAN_ID}.json", {"schema_version": "1.0"})
    (tmp_path / "truncated.tiff").write_bytes((tmp_path / "scans" / f"{SCAN_ID}.tiff").read_bytes()[:100])
    return tmp_path


DB = ["--db", "sqlite:///registry.db"]
SCAN = f"scans/{SCAN_ID}.tiff"

#: (arguments, text the error line holds, exit code)
CASES = [
    (["registry", "declarations", "missing.csv", *DB], "file not found (missing.csv)", EXIT_ERROR),
    (["registry", "declarations", "folder.csv", *DB], "not a regular file (folder.csv)", EXIT_ERROR),
    (["registry", "declarations", "cp1251.csv", *DB], "not UTF-8", EXIT_ERROR),
    (["registry", "declarations", "broken.xlsx", *DB], "not a readable XLSX workbook", EXIT_ERROR),
    (["registry", "ingest", "no-archive", *DB], "no-archive", EXIT_ERROR),
    (["inspect", SCAN, "--declarations", "cp1251.csv"], "not UTF-8", EXIT_ERROR),
    (["inspect", SCAN, "--declarations", "broken.xlsx"], "not a readable XLSX workbook", EXIT_ERROR),
    (["inspect", SCAN, "--declarations", "other.csv"], "line 2", EXIT_ERROR),
    (["inspect", SCAN, "--declarations", "missing.csv"], "file not found (missing.csv)", EXIT_ERROR),
    (["inspect", SCAN, "--declaration", "null.json"], "expected a row object", EXIT_ERROR),
    (["inspect", SCAN, "--declaration", "deep.json"], "nested too deeply", EXIT_ERROR),
    (["inspect-archive", "no-archive", "--out", "out"], "not a scan archive", EXIT_ERROR),
    (["prepare", "--params", "missing.yaml"], "missing.yaml", EXIT_ERROR),
    (["report", "--params", "missing.yaml"], "missing.yaml", EXIT_ERROR),
    pytest.param(["evaluate", "--params", "missing.yaml"], "missing.yaml", EXIT_ERROR,
                 marks=pytest.mark.slow),                      # imports torch
    (["frames", ".", "--params", "missing.yaml"], "missing.yaml", EXIT_ERROR),
    (["audit", "checkpoint", "--private-key", "missing.key", "--out", "c.json", *DB], "missing.key", EXIT_ERROR),
]


def _invoke(args):
    return CliRunner().invoke(app, args)


def _error_lines(result) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("cargoscan: ")]


@pytest.mark.parametrize("args,text,code", CASES)
def test_a_failure_is_one_clear_line_and_a_non_zero_exit(work, args, text, code):
    result = _invoke(args)
    assert result.exit_code == code, result.output
    lines = _error_lines(result)
    assert len(lines) == 1 and text in lines[0], result.output
    assert lines[0].startswith("cargoscan: error: ")
    assert "Traceback" not in result.output


def test_os_errors_are_clear_and_other_exceptions_internal(work, monkeypatch):
    import cargoscan.registry.declarations as decl

    def denied(registry, path, **kw):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(decl, "import_file", denied)
    result = _invoke(["registry", "declarations", "other.csv", *DB])
    assert result.exit_code == EXIT_ERROR
    assert _error_lines(result) == ["cargoscan: error: Permission denied (other.csv)"]

    def bug(registry, path, **kw):
        raise KeyError("net_weight_kg")

    monkeypatch.setattr(decl, "import_file", bug)
    result = _invoke(["registry", "declarations", "other.csv", *DB])
    assert result.exit_code == EXIT_INTERNAL
    assert _error_lines(result) == ["cargoscan: internal error: KeyError: 'net_weight_kg' "
                                    "(rerun with --debug for the traceback)"]
    debug = _invoke(["--debug", "registry", "declarations", "other.csv", *DB])
    assert isinstance(debug.exception, KeyError)          # re-raised: Typer prints the traceback
    assert _error_lines(debug) == []


def test_usage_errors_keep_their_own_message_and_code(work):
    result = _invoke(["inspect"])
    assert result.exit_code == 2 and "Missing argument" in result.output


@pytest.mark.parametrize("exc,line,code", [
    (ArchiveError("a/b.tiff", "unreadable\nor truncated TIFF"), "cargoscan: error: unreadable or truncated TIFF "
                                                                "(a/b.tiff)", EXIT_ERROR),
    (FileNotFoundError(2, "No such file or directory", "x.csv"), "cargoscan: error: No such file or directory "
                                                                 "(x.csv)", EXIT_ERROR),
    (OSError(28, "No space left on device"), "cargoscan: error: No space left on device", EXIT_ERROR),
    (RecursionError(), "cargoscan: internal error: RecursionError (rerun with --debug for the traceback)",
     EXIT_INTERNAL),
])
def test_error_line(exc, line, code):
    assert error_line(exc) == (line, code)


def test_project_exceptions_are_clear_errors():
    from cargoscan.config import ConfigError

    assert error_line(ConfigError("params.yaml: no section 'x'")) == (
        "cargoscan: error: params.yaml: no section 'x'", EXIT_ERROR)
    line, code = error_line(ValueError("x" * 1000 + "\n" + "y"))   # a huge message stays one short line
    assert code == EXIT_INTERNAL and "…" in line and "\n" not in line and len(line) < 500


@pytest.mark.slow
def test_console_script_prints_one_line_and_debug_the_traceback(work):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1] / "src"), "COLUMNS": "200"}
    cmd = [sys.executable, "-m", "cargoscan", "registry", "declarations", "cp1251.csv", *DB]
    plain = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert plain.returncode == EXIT_ERROR
    assert plain.stderr.strip().splitlines()[-1].startswith("cargoscan: error: not UTF-8")
    assert "Traceback" not in plain.stderr + plain.stdout
    debug = subprocess.run(cmd[:3] + ["--debug"] + cmd[3:], capture_output=True, text=True, env=env, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr and "ArchiveError" in debug.stderr


@pytest.mark.slow
def test_inspect_reads_declarations_of_any_name(tmp_path, monkeypatch, artifact):
    from cargoscan.archive import write_table
    from tests.inspect.conftest import declaration_row, make_scan

    monkeypatch.chdir(tmp_path)
    scan = make_scan(tmp_path / "raw", 3)
    write_table(tmp_path / "declarations.csv", [declaration_row(900.0, pi="PI-OTHER")])
    (tmp_path / "pi-february.csv").write_bytes(b"\xef\xbb\xbf" + (tmp_path / "declarations.csv").read_bytes())
    result = _invoke(["inspect", str(scan), "--declarations", "pi-february.csv", "--artifact", str(artifact),
                      "--out", "out"])
    assert result.exit_code == 0, result.output
    doc = json.loads((tmp_path / "out" / f"{scan.stem}.json").read_text(encoding="utf-8"))
    assert doc["declaration"]["pi_numbers"] == ["PI-OTHER"]
