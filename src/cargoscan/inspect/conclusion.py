"""«Заключение по результатам анализа снимка ИДК»: the conclusion as JSON, HTML and PDF.

The field set is one template config (``configs/conclusion.yaml`` = the packaged ``conclusion.yaml``): sections of
label → dotted path into the inspection document, tables, the scan image and signature lines. :func:`layout`
resolves it into plain rows once; the HTML (jinja2, ``templates/conclusion.html``) and the PDF (reportlab) only
draw those rows, so both always show the same fields. The PDF draws text in matplotlib's DejaVu Sans (Latin,
Cyrillic, Kazakh) and every character DejaVu lacks — Chinese goods and consignors — in the bundled WenQuanYi
Micro Hei subset (``fonts/``, Apache-2.0, provenance in ``fonts/README.md``); no download.

The document hash is the SHA-256 of the inspection JSON as written (sorted keys, UTF-8): anyone can recompute it
from ``<scan_id>.json`` and compare it with the one printed on the conclusion.
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
from datetime import datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cargoscan.inspect.result import Inspection

EMPTY = "—"
#: The bundled fallback font (``fonts/``): its file and the name the PDF registers it under.
FALLBACK_FONT_FILE = "WenQuanYiMicroHei-subset.ttf"
FALLBACK_FONT = "WenQuanYiMicroHei"


def load_form(path: str | Path | None = None) -> dict[str, Any]:
    """The conclusion's field set: ``path`` or the packaged ``conclusion.yaml``."""
    if path:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return yaml.safe_load(resources.files("cargoscan.inspect").joinpath("conclusion.yaml").read_text("utf-8"))


def document_sha256(doc_json: str) -> str:
    return hashlib.sha256(doc_json.encode("utf-8")).hexdigest()


def recommendation(doc: dict[str, Any], form: dict[str, Any]) -> str:
    """The recommendation: inspection and red corridor with the areas to open, or release."""
    rec = form["recommendation"]
    if not doc["complete"]:
        return rec["incomplete"]
    if not doc["suspicious"]:
        return rec["clear"]
    text = rec["suspicious"]
    areas = doc.get("risk_areas") or []
    if areas:
        where = [f"{a['id']} ({a['unit']})" if a.get("unit") else str(a["id"]) for a in areas]
        text += " " + rec["open_areas"].format(areas=", ".join(where))
    return text


def resolve(obj: Any, path: str) -> Any:
    for key in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return None
        if obj is None:
            return None
    return obj


def fmt(value: Any, kind: str | None) -> str:
    """A value as the form shows it."""
    if value is None or value == [] or value == "":
        return EMPTY
    try:
        if kind == "list":
            return ", ".join(EMPTY if v is None else str(v) for v in value)
        if kind == "datetime":
            return datetime.fromisoformat(str(value)).strftime("%d.%m.%Y %H:%M:%S")
        if kind == "kg":
            return f"{float(value):,.0f}".replace(",", " ")
        if kind in ("m", "m2"):
            return f"{float(value):.2f}"
        if kind == "score":
            return f"{float(value):.2f}"
        if kind == "pct":
            return f"{float(value) * 100:+.1f} %"
        if kind == "bool":
            return "да" if value else "нет"
        if kind == "reasons":
            return "; ".join(r["text"] for r in value)
        if kind == "span_x":
            return f"{value[0]:.2f}–{value[2]:.2f}"
        if kind == "span_y":
            return f"{value[1]:.2f}–{value[3]:.2f}"
    except (TypeError, ValueError, KeyError, IndexError):
        pass
    return str(value)


def layout(doc: dict[str, Any], form: dict[str, Any]) -> list[dict[str, Any]]:
    """Resolve the form against an inspection document into sections of plain strings."""
    out = []
    for s in form["sections"]:
        kind = s.get("kind", "fields")
        sec: dict[str, Any] = {"title": s["title"], "kind": kind}
        if kind == "fields":
            sec["rows"] = []
            for f in s["fields"]:
                value = resolve(doc, f["path"])
                css = ""
                if f["path"] == "decision":
                    css = "suspicious" if doc.get("suspicious") else "clear"
                if f.get("values") and value in f["values"]:
                    value = f["values"][value]
                sec["rows"].append({"label": f["label"], "value": fmt(value, f.get("format")),
                                    "emphasis": bool(f.get("emphasis")), "css": css})
        elif kind == "table":
            items = resolve(doc, s["path"]) or []
            sec["header"] = [c["label"] for c in s["columns"]]
            sec["rows"] = [[fmt(resolve(it, c["path"]), c.get("format")) for c in s["columns"]] for it in items]
            sec["empty"] = s.get("empty", EMPTY)
        elif kind == "signature":
            sec["lines"] = list(s.get("lines", []))
        out.append(sec)
    return out


@lru_cache(maxsize=2)
def font_path(bold: bool = False) -> str:
    """DejaVu Sans (Cyrillic) from matplotlib's bundled fonts."""
    import matplotlib

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", name)


def fallback_font_path() -> str:
    """The bundled CJK font (with Latin and Cyrillic too) for what DejaVu Sans cannot draw."""
    return str(resources.files("cargoscan.inspect").joinpath("fonts", FALLBACK_FONT_FILE))


@lru_cache(maxsize=1)
def _register_fonts() -> tuple[frozenset[int], frozenset[int]]:
    """Register the PDF fonts with reportlab once; the code points DejaVu Sans and the fallback font draw."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    fonts = {"DejaVuSans": font_path(), "DejaVuSans-Bold": font_path(True), FALLBACK_FONT: fallback_font_path()}
    loaded = {name: TTFont(name, path) for name, path in fonts.items()}
    for font in loaded.values():
        pdfmetrics.registerFont(font)
    return frozenset(loaded["DejaVuSans"].face.charToGlyph), frozenset(loaded[FALLBACK_FONT].face.charToGlyph)


def markup(text: str) -> str:
    """``text`` escaped for a reportlab Paragraph, runs DejaVu Sans lacks set in the fallback font.

    A glyph missing from the paragraph's font prints as an empty box, so each character goes to the first font
    that has it; one the fallback lacks too stays in the main font (a box, as before).
    """
    main, fallback = _register_fonts()
    out: list[str] = []
    run: list[str] = []
    in_fallback = False
    for ch in text:
        use_fallback = ord(ch) not in main and ord(ch) in fallback and not ch.isspace()
        if use_fallback != in_fallback and run:
            out.append(_run("".join(run), in_fallback))
            run = []
        in_fallback = use_fallback
        run.append(ch)
    if run:
        out.append(_run("".join(run), in_fallback))
    return "".join(out)


def _run(text: str, fallback: bool) -> str:
    from xml.sax.saxutils import escape

    return f'<font name="{FALLBACK_FONT}">{escape(text)}</font>' if fallback else escape(text)


def overlay(scan_path: str | Path | None, doc: dict[str, Any], width: int = 1600) -> bytes | None:
    """The scan (high energy, grey) with each risk area drawn and numbered, as PNG bytes; None if unreadable."""
    from PIL import Image, ImageDraw, ImageFont

    from cargoscan.archive import read_scan
    from cargoscan.archive.classes import load_classes

    if scan_path is None:
        return None
    try:
        image = read_scan(scan_path)
    except Exception:
        return None
    t = image[0].astype(np.float32) / 65535.0
    grey = (np.clip(t, 0, 1) ** 0.5 * 255).astype(np.uint8)   # gamma: keeps detail in dense load
    h, w = grey.shape
    scale = min(1.0, width / w)
    img = Image.fromarray(grey).convert("RGB").resize((max(1, int(w * scale)), max(1, int(h * scale))))
    draw = ImageDraw.Draw(img)
    colors = {c.name: tuple(c.color) for c in load_classes()}
    font = ImageFont.truetype(font_path(True), max(12, int(16 * max(scale, 0.6))))
    for a in doc.get("risk_areas") or []:
        x0, y0, x1, y1 = (v * scale for v in a["bbox_px"])
        col = colors.get(a["class"], (255, 0, 0))
        draw.rectangle([x0, y0, x1, y1], outline=col, width=3)
        label = str(a["id"])
        tx, ty = x0, max(0, y0 - font.size - 4)
        box = draw.textbbox((tx, ty), label, font=font)
        draw.rectangle([box[0] - 2, box[1] - 2, box[2] + 2, box[3] + 2], fill=col)
        draw.text((tx, ty), label, fill=(255, 255, 255), font=font)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def render_html(doc: dict[str, Any], form: dict[str, Any], png: bytes | None, doc_hash: str) -> str:
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("cargoscan.inspect", "templates"),
                             autoescape=jinja2.select_autoescape(["html"]))
    ctx = {**doc, "recommendation": recommendation(doc, form)}
    return env.get_template("conclusion.html").render(
        form=form, doc=doc, sections=layout(ctx, form), image_b64=base64.b64encode(png).decode() if png else None,
        document_sha256=doc_hash)


def render_pdf(doc: dict[str, Any], form: dict[str, Any], png: bytes | None, doc_hash: str, path: Path) -> None:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Image as RLImage
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    _register_fonts()
    body = ParagraphStyle("body", fontName="DejaVuSans", fontSize=8.5, leading=10.5)
    bold = ParagraphStyle("bold", parent=body, fontName="DejaVuSans-Bold")
    h1 = ParagraphStyle("h1", parent=bold, fontSize=14, leading=17, spaceAfter=2)
    h2 = ParagraphStyle("h2", parent=bold, fontSize=10.5, leading=13, spaceBefore=8, spaceAfter=3)
    grid = TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                       ("FONTNAME", (0, 0), (-1, -1), "DejaVuSans")])
    page_w = A4[0] - 30 * mm
    ctx = {**doc, "recommendation": recommendation(doc, form)}
    story: list[Any] = [Paragraph(markup(form["title"]), h1), Paragraph(markup(form.get("subtitle", "")), body)]
    p = lambda text, st=body: Paragraph(markup(str(text)), st)  # noqa: E731
    for s in layout(ctx, form):
        story.append(p(s["title"], h2))
        if s["kind"] == "fields":
            rows = [[p(r["label"]), p(r["value"], bold if r["emphasis"] else body)] for r in s["rows"]]
            story.append(Table(rows, colWidths=[0.38 * page_w, 0.62 * page_w], style=grid))
        elif s["kind"] == "table":
            if s["rows"]:
                rows = [[p(c, bold) for c in s["header"]]] + [[p(v) for v in r] for r in s["rows"]]
                story.append(Table(rows, repeatRows=1, style=grid))
            else:
                story.append(p(s["empty"]))
        elif s["kind"] == "image":
            if png:
                from PIL import Image

                w, h = Image.open(io.BytesIO(png)).size
                iw = page_w
                story.append(RLImage(io.BytesIO(png), width=iw, height=iw * h / w))
            else:
                story.append(p("Изображение недоступно"))
        elif s["kind"] == "signature":
            rows = [[p(line), ""] for line in s["lines"]]
            story.append(Table(rows, colWidths=[0.38 * page_w, 0.62 * page_w], rowHeights=[9 * mm] * len(rows),
                               style=grid))
    story += [Spacer(1, 6 * mm), p(f"{form.get('footer', '')}: {doc_hash}")]
    SimpleDocTemplate(str(path), pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=12 * mm,
                      bottomMargin=12 * mm, title=f"{form['title']} {doc['scan_id']}",
                      author="cargoscan").build(story)


def write_conclusion(inspection: Inspection, out_dir: str | Path, scan_path: str | Path | None = None,
                     form_path: str | Path | None = None, width: int = 1600, pdf: bool = True) -> dict[str, Path]:
    """Write ``<scan_id>.json``, ``.html``, ``.pdf`` and ``.png`` (the marked-up scan) into ``out_dir``.

    Returns:
        The paths written, by kind.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    form = load_form(form_path)
    text = inspection.to_json()
    doc = inspection.to_dict()
    doc = __import__("json").loads(text)          # exactly what is hashed
    digest = document_sha256(text)
    sid = inspection.scan_id
    paths = {"json": out_dir / f"{sid}.json", "html": out_dir / f"{sid}.html"}
    paths["json"].write_text(text, encoding="utf-8")
    png = overlay(scan_path, doc, width)
    if png:
        paths["png"] = out_dir / f"{sid}.png"
        paths["png"].write_bytes(png)
    paths["html"].write_text(render_html(doc, form, png, digest), encoding="utf-8")
    if pdf:
        paths["pdf"] = out_dir / f"{sid}.pdf"
        render_pdf(doc, form, png, digest, paths["pdf"])
    return paths
