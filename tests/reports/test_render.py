"""Render the three notebooks on the tiny world (papermill → HTML) once, then check the HTML and run nbval."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

import cargoscan
from cargoscan.reports.config import NOTEBOOKS, ReportParams

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = {
    "dataset": ["Archive contents", "Class balance", "Concealment sites", "Declared vs true weights",
                "Sample scans with overlays", "Realism against the real-scanner targets"],
    "evaluation": ["Summary", "Per-class IoU", "Operating point",
                   "Detection per threat class and concealment site",
                   "Declared vs estimated mass", "Declaration mismatches", "Worst misses",
                   "Worst false alarms",
                   "Calibration", "Model card"],
    "batch": ["Trains", "Wagons to look at (red or held)", "Decisions and corridors", "Timings"],
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def rendered(world):
    from cargoscan.reports.render import render

    params = ReportParams(**{k: str(v) for k, v in world.items()}, notebooks_dir=str(ROOT / "notebooks"),
                          realism_scans=2, jobs=3)
    return params, render(params, cwd=ROOT)


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def table_after(doc: BeautifulSoup, heading: str) -> dict[str, dict[str, str]]:
    """The first table after a heading, as {row label: {column: cell}}."""
    h = next(h for h in doc.find_all(["h1", "h2", "h3"]) if h.get_text(strip=True).rstrip("¶") == heading)
    table = h.find_next("table")
    header = [c.get_text(strip=True) for c in table.find("thead").find("tr").find_all("th")][1:]
    rows = {}
    for tr in table.find("tbody").find_all("tr"):
        cells = [c.get_text(strip=True) for c in tr.find_all(["th", "td"])]
        rows[cells[0]] = dict(zip(header, cells[1:]))
    return rows


def check_numbers_match_metrics(html: Path, metrics: dict) -> int:
    """Per-class IoU/Dice, the operating point and per-group rates printed exactly as in metrics.json."""
    doc, f = soup(html), (lambda v: f"{v:.3f}")
    iou, seg = table_after(doc, "Per-class IoU"), metrics["segmentation"]
    for cls, v in seg["iou"].items():
        assert (iou[cls]["IoU"], iou[cls]["Dice"]) == (f(v), f(seg["dice"][cls])), cls
    op = {k: v["value"] for k, v in table_after(doc, "Operating point").items()}
    det = metrics["detection"]
    assert op["detection rate, wagons with something to find"] == f(det["detection_rate"])
    assert op["false-alarm rate, clean wagons"] == f(det["false_alarm_rate"])
    assert op["wagon score threshold"] == f(det["threshold"])
    assert op["ROC AUC"] == f(det["auroc"])
    assert op["cargo-category accuracy"] == f(metrics["category"]["accuracy"])
    groups = table_after(doc, "Detection per threat class and concealment site")
    for cls, v in det.get("per_class", {}).items():
        assert (groups[cls]["detection rate"], groups[cls]["wagons"]) == (f(v["detection_rate"]),
                                                                          str(v["n"])), cls
    return len(iou)


def test_html_has_sections_figures_and_no_code(rendered):
    params, htmls = rendered
    assert set(htmls) == set(NOTEBOOKS)
    for name, path in htmls.items():
        doc = soup(path)
        headings = {h.get_text(strip=True).rstrip("¶") for h in doc.find_all(["h1", "h2", "h3"])}
        assert set(SECTIONS[name]) <= headings, name
        text = doc.get_text()
        assert "cargoscan.reports" not in text and "import " not in text, f"{name}: code leaked into the HTML"
        assert not doc.select(".jp-CodeCell .jp-InputArea"), name
        assert "Traceback" not in text and "PosixPath" not in text
        assert path.stat().st_size < 2_000_000
        imgs = doc.find_all("img")
        assert imgs and all(i["src"].startswith("data:image/png;base64,") for i in imgs)
        assert all(i["alt"] != "No description has been provided for this image" for i in imgs)
    figures = {p.stem for p in Path(params.figures_dir).glob("*.png")}
    assert {"dataset_samples", "evaluation_roc", "evaluation_worst_misses", "evaluation_reliability",
            "batch_timings"} <= figures


def test_html_numbers_match_metrics_json(rendered, world):
    _, htmls = rendered
    metrics = json.loads(Path(world["metrics"]).read_text(encoding="utf-8"))
    assert check_numbers_match_metrics(htmls["evaluation"], metrics) == len(metrics["segmentation"]["iou"])


def test_batch_html_shows_russian_decisions_and_corridors(rendered):
    _, htmls = rendered
    trains = table_after(soup(htmls["batch"]), "Trains")
    assert {"2417", "3001", "4420", "5012"} <= set(trains)
    text = soup(htmls["batch"]).get_text()
    assert "held" in text and "анализ не выполнен" in text and "под подозрением" in text


def test_nbval_lax_on_the_executed_notebooks(rendered, tmp_path):
    params, _ = rendered
    executed = sorted(str(p) for p in Path(params.work_dir).glob("*.ipynb"))
    assert len(executed) == len(NOTEBOOKS)
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")   # not the project's ini
    src = str(Path(cargoscan.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": src, "MPLBACKEND": "Agg"}
    sanitize = str(Path(__file__).with_name("nbval_sanitize.cfg"))
    # one nbval run per notebook, in parallel: the kernels mostly start and import
    procs = [subprocess.Popen(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", str(tmp_path / "pytest.ini"),
         "--rootdir", str(tmp_path), "--nbval-lax", "--nbval-kernel-name", params.kernel,
         "--nbval-kernel-startup-timeout", "240",   # three kernels start at once on 2 cores
         "--nbval-sanitize-with", sanitize, nb],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for nb in executed]
    for nb, proc in zip(executed, procs):
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"{nb}\n{out[-4000:]}"
        assert " passed" in out and " failed" not in out


def test_committed_reports_match_committed_metrics():
    html, metrics = ROOT / "reports" / "evaluation.html", ROOT / "reports" / "metrics.json"
    if not (html.exists() and metrics.exists()):
        pytest.skip("no committed reports/evaluation.html + reports/metrics.json yet (`dvc repro report`)")
    check_numbers_match_metrics(html, json.loads(metrics.read_text(encoding="utf-8")))


def test_missing_notebook_is_a_clear_error(tmp_path):
    from cargoscan.reports.render import render

    with pytest.raises(FileNotFoundError, match="report notebook not found"):
        render(ReportParams(notebooks_dir=str(tmp_path)), ("dataset",))
