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


ZH_GOODS = "电子产品：手机配件，塑料外壳"
ZH_CONSIGNOR = "义乌市华通进出口贸易有限公司"
KK = "Қазақстан, Өскемен: Әә Ғғ Ққ Ңң Өө Ұұ Үү Һһ Ії"
RU = "платья женские хлопчатобумажные"


def _runs(pdf_path) -> list[tuple[str, str]]:
    """(font name, text) of every text run the PDF draws."""
    runs: list[tuple[str, str]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if text.strip() and font_dict is not None:
            runs.append((str(font_dict.get("/BaseFont", "")), text))

    for page in pypdf.PdfReader(pdf_path).pages:
        page.extract_text(visitor_text=visit)
    return runs


def test_pdf_draws_chinese_kazakh_and_russian_with_real_glyphs(tmp_path, inspector):
    from reportlab.pdfbase.ttfonts import TTFont

    from cargoscan.inspect.conclusion import fallback_font_path, font_path

    scan = make_scan(tmp_path / "raw", 32)
    row = {**declaration_row(true_net_kg()), "goods_description": f"{ZH_GOODS} / {RU} / {KK}",
           "consignor": ZH_CONSIGNOR}
    out = inspector.inspect(scan, [row])
    form = load_form()
    form["sections"][0]["fields"].append({"label": "Отправитель", "path": "declaration.rows.0.consignor"})
    custom = tmp_path / "form.yaml"
    custom.write_text(yaml.safe_dump(form, allow_unicode=True), encoding="utf-8")
    pdf = write_conclusion(out, tmp_path / "out", scan, custom)["pdf"]

    reader = pypdf.PdfReader(pdf)
    fonts = {}
    for page in reader.pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            fonts[str(font["/BaseFont"])] = font
    cjk = [name for name in fonts if "WenQuanYi" in name]
    assert cjk, f"the CJK font is not in the PDF: {sorted(fonts)}"
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    for s in (ZH_GOODS, ZH_CONSIGNOR, RU, KK):
        assert s in text

    # Every character is drawn by a font that has its glyph: no empty .notdef boxes.
    cmaps = {"DejaVuSans": set(TTFont("a", font_path()).face.charToGlyph),
             "DejaVuSans-Bold": set(TTFont("b", font_path(True)).face.charToGlyph),
             "WenQuanYiMicroHei": set(TTFont("c", fallback_font_path()).face.charToGlyph)}
    runs = _runs(pdf)
    drawn_cjk = "".join(t for name, t in runs if "WenQuanYi" in name)
    assert set(ZH_GOODS + ZH_CONSIGNOR) - set("：，") <= set(drawn_cjk)
    for name, run in runs:
        family = next(k for k in sorted(cmaps, key=len, reverse=True) if k in name.split("+")[-1])
        missing = {c for c in run if not c.isspace() and ord(c) not in cmaps[family]}
        assert not missing, f"{name} has no glyph for {''.join(sorted(missing))}"
