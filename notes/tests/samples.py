"""Synthetic note files for tests and the demo fixtures: a PDF with a text layer, a
scanned page (text drawn into an image) and that image wrapped in a PDF.

Uses Pillow and fpdf2 (development requirements); fixtures/make_demo_notes.py uses it too.
"""

from __future__ import annotations

import io
import textwrap
from datetime import UTC, datetime

from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont

FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def render_text_image(text: str, *, image_format: str = "PNG", width: int = 1700) -> bytes:
    """Black text on white at a size Tesseract reads reliably (about 300 dpi)."""
    font = ImageFont.load_default(size=36)
    lines: list[str] = []
    for paragraph in text.splitlines():
        lines.extend(textwrap.wrap(paragraph, width=70) or [""])
    line_height = 52
    height = max(200, 120 + line_height * len(lines))
    image = Image.new("L", (width, height), color=255)
    draw = ImageDraw.Draw(image)
    for index, line in enumerate(lines):
        draw.text((80, 60 + index * line_height), line, fill=0, font=font)
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, dpi=(300, 300))
    return buffer.getvalue()


def text_pdf(text: str, *, pages: int = 1) -> bytes:
    """A PDF whose text layer holds ``text`` (repeated on each page)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)  # same text, same bytes
    pdf.set_auto_page_break(auto=True, margin=15)
    for _ in range(pages):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        for line in text.splitlines():
            pdf.multi_cell(0, 6, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def scanned_pdf(text: str) -> bytes:
    """A PDF with no text layer: one page holding a picture of ``text``."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()
    pdf.image(io.BytesIO(render_text_image(text)), x=0, y=0, w=210)
    return bytes(pdf.output())
