"""The conclusion: HTML and PDF hold the scan ID, Cyrillic text, the areas and a verifiable document hash."""

from __future__ import annotations

import hashlib

import pypdf
import pytest
import yaml

from cargoscan.inspect.conclusion import load_form, write_conclusion
from tests.inspect.conftest import declaration_row, make_scan, true_net_kg


@pytest.fixture()
def written(tmp_path, inspector):
    scan = make_scan(tmp_path / "raw", 31, drugs=(300, 25, 330, 85))
    out = inspector.inspect(scan, [declaration_row(true_net_kg())])
    return out, write_conclusion(out, tmp_path / "out", scan)


def test_html_has_scan_id_cyrillic_areas_and_hash(written):
    out, paths = written
    html = paths["html"].read_text(encoding="utf-8")
    assert out.scan_id in html
    assert "Заключение по результатам анализа снимка ИДК" in html
    assert "Контроль ИДК, под подозрением" in html
    assert "наркотики" in html                                   # the area's class, in Russian
    assert "Вскрыть и осмотреть зоны № 1 (CSQU3054383)" in html   # the recommendation names the area
    assert "data:image/png;base64," in html
    digest = hashlib.sha256(paths["json"].read_bytes()).hexdigest()
    assert digest in html


def test_pdf_text_has_scan_id_and_cyrillic(written):
    out, paths = written
    text = "".join(page.extract_text() for page in pypdf.PdfReader(paths["pdf"]).pages)
    assert out.scan_id in text
    assert "Заключение по результатам анализа снимка ИДК" in text
    assert "под подозрением" in text
    assert "Подпись" in text                                     # the officer's field
    assert hashlib.sha256(paths["json"].read_bytes()).hexdigest() in text.replace("\n", "")


def test_overlay_marks_the_area(written):
    import numpy as np
    from PIL import Image

    out, paths = written
    img = np.asarray(Image.open(paths["png"]).convert("RGB")).astype(int)
    x0, y0, x1, y1 = out.risk_areas[0].bbox_px
    red = (img[..., 0] > 180) & (img[..., 1] < 60)               # the drugs colour, not in a grey scan
    assert red[y0:y1 + 2, x0 - 2:x1 + 2].sum() > 0 and red.sum() < red.size * 0.2


def test_form_change_without_code(tmp_path, written):
    out, _ = written
    form = load_form()
    form["sections"][0]["fields"].append({"label": "Особая отметка поста", "path": "meta.speed_kmh"})
    custom = tmp_path / "form.yaml"
    custom.write_text(yaml.safe_dump(form, allow_unicode=True), encoding="utf-8")
    paths = write_conclusion(out, tmp_path / "custom", None, custom, pdf=False)
    html = paths["html"].read_text(encoding="utf-8")
    assert "Особая отметка поста" in html and "Изображение недоступно" in html
