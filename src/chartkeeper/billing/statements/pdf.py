"""A `Statement` drawn as PDF with fpdf2's core Helvetica: the same content, in the same order,
as the HTML page, for mailing and printing.

Core fonts hold Latin-1 only, so text is folded to Latin-1 first (accents kept where Latin-1
has them, stripped where it does not, anything else shown as "?"). The creation date is the
statement date, so the same activity always gives the same bytes.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime

from fpdf import FPDF, FontFace

from chartkeeper.billing.statements.content import TEXT, Row, Statement, Visit

_PUNCTUATION = str.maketrans(
    {
        "\u2014": "-",
        "\u2013": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2022": "-",
        "\u00a0": " ",
    }
)
_FONT = "Helvetica"
_MUTED = (74, 85, 97)
_INK = (27, 31, 36)
_MARGIN = 18.0
_LINE = 6.0


def latin1(text: str) -> str:
    """Text a core PDF font can show: Latin-1 as is, other letters without their accents."""
    out: list[str] = []
    for char in text.translate(_PUNCTUATION):
        if ord(char) < 256:
            out.append(char)
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", char) if ord(c) < 128)
        out.append(base or "?")
    return "".join(out)


class _StatementPDF(FPDF):
    """Letter pages with "Page n of N" and the account number at the foot of each."""

    def __init__(self, statement: Statement, total_pages: int) -> None:
        super().__init__(format="Letter", unit="mm")
        self.statement = statement
        self.total_pages = total_pages

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(_FONT, size=9)
        self.set_text_color(*_MUTED)
        account = latin1(f"{self.statement.facts[-1].label}: {self.statement.facts[-1].amount}")
        self.cell(0, 5, account, align="L")
        self.set_x(self.l_margin)
        page = TEXT["page"].format(page=self.page_no(), pages=self.total_pages)
        self.cell(0, 5, page, align="R")


def render_pdf(statement: Statement, created: datetime) -> bytes:
    """The statement as PDF bytes, drawn twice: first to count the pages, then to number them.

    (fpdf2's page-count alias pads the number with spaces, which a screen reader or a text
    search would read; the page breaks do not depend on the footer, so the count holds.)
    """
    pages = _draw(statement, created, total_pages=0).pages_count
    return bytes(_draw(statement, created, total_pages=pages).output())


def _draw(statement: Statement, created: datetime, *, total_pages: int) -> FPDF:
    pdf = _StatementPDF(statement, total_pages)
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_creation_date(created)
    pdf.set_title(latin1(f"{statement.title} - {statement.office.name}"))
    pdf.set_author(latin1(statement.office.name))
    pdf.set_lang("en")
    pdf.add_page()
    _header(pdf, statement)
    _owe_box(pdf, statement)
    if statement.totals:
        _heading(pdf, TEXT["totals"], 14)
        _sums(pdf, statement.totals)
        _heading(pdf, TEXT["visits"], 14)
        for visit in statement.visits:
            _visit(pdf, visit)
    _questions(pdf, statement)
    if statement.linked:
        _paragraph(pdf, statement.linked, size=10, color=_MUTED)
    return pdf


def _text(
    pdf: FPDF, size: float, *, bold: bool = False, color: tuple[int, int, int] = _INK
) -> None:
    pdf.set_font(_FONT, style="B" if bold else "", size=size)
    pdf.set_text_color(*color)


def _paragraph(
    pdf: FPDF,
    text: str,
    *,
    size: float = 11,
    bold: bool = False,
    color: tuple[int, int, int] = _INK,
) -> None:
    _text(pdf, size, bold=bold, color=color)
    pdf.multi_cell(0, _LINE, latin1(text), new_x="LMARGIN", new_y="NEXT")


def _heading(pdf: FPDF, text: str, size: float, *, room: float = 30) -> None:
    """A heading, moved to the next page if it would sit alone at the bottom of this one."""
    if pdf.get_y() + room > pdf.page_break_trigger:
        pdf.add_page()
    pdf.ln(3)
    _paragraph(pdf, text, size=size, bold=True)
    pdf.ln(1)


def _header(pdf: FPDF, statement: Statement) -> None:
    _paragraph(pdf, statement.office.name, size=11, bold=True, color=_MUTED)
    _paragraph(pdf, statement.title, size=20, bold=True)
    for row in statement.facts:
        _paragraph(pdf, f"{row.label}: {row.amount}", size=11)
    pdf.ln(3)
    _paragraph(pdf, statement.patient_name, size=12, bold=True)
    for line in statement.address_lines:
        _paragraph(pdf, line, size=11)
    pdf.ln(4)


def _owe_box(pdf: FPDF, statement: Statement) -> None:
    top = pdf.get_y()
    pdf.set_x(_MARGIN + 4)
    _text(pdf, 18, bold=True)
    pdf.multi_cell(pdf.epw - 8, 10, latin1(statement.headline), new_x="LMARGIN", new_y="NEXT")
    for note in statement.notes:
        pdf.set_x(_MARGIN + 4)
        _text(pdf, 11)
        pdf.multi_cell(pdf.epw - 8, _LINE, latin1(note), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_line_width(0.8)
    pdf.set_draw_color(*_INK)
    pdf.rect(_MARGIN, top - 2, pdf.epw, pdf.get_y() - top + 2)
    pdf.set_line_width(0.2)
    pdf.ln(4)


def _sums(pdf: FPDF, rows: tuple[Row, ...]) -> None:
    _text(pdf, 11)
    width = pdf.epw * 0.7
    with pdf.table(
        width=width,
        col_widths=(width - 35, 35),
        align="LEFT",
        first_row_as_headings=False,
        borders_layout="HORIZONTAL_LINES",
        text_align=("LEFT", "RIGHT"),
        line_height=_LINE,
    ) as table:
        for index, row in enumerate(rows):
            last = index == len(rows) - 1
            style = FontFace(emphasis="BOLD") if last else None
            cells = table.row(style=style)
            cells.cell(latin1(row.label))
            cells.cell(latin1(row.amount))
    pdf.ln(2)


def _visit(pdf: FPDF, visit: Visit) -> None:
    _heading(pdf, visit.heading, 13, room=60)
    for row in visit.facts:
        _paragraph(pdf, f"{row.label}: {row.amount}", size=11)
    pdf.ln(1)
    _paragraph(pdf, TEXT["services"], size=11, bold=True)
    _text(pdf, 10)
    with pdf.table(
        col_widths=(38, 80, 25, 30),
        borders_layout="HORIZONTAL_LINES",
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT"),
        line_height=5.5,
    ) as table:
        table.row([TEXT["date"], TEXT["service"], TEXT["code"], TEXT["charge"]])
        for line in visit.services:
            table.row([latin1(line.date), latin1(line.description), latin1(line.code), line.charge])
    pdf.ln(2)
    _sums(pdf, visit.sums)
    _paragraph(pdf, TEXT["why"], size=11, bold=True)
    for sentence in visit.sentences:
        _paragraph(pdf, f"- {sentence}", size=11)
    pdf.ln(3)


def _questions(pdf: FPDF, statement: Statement) -> None:
    _heading(pdf, TEXT["questions"], 14, room=50)
    for line in statement.questions:
        _paragraph(pdf, line, size=12, bold=True)
    pdf.ln(1)
    _paragraph(pdf, TEXT["write"])
    for line in statement.contact_lines:
        _paragraph(pdf, line)
    pdf.ln(1)
    _paragraph(pdf, TEXT["have_ready"])
    for item in statement.have_ready:
        _paragraph(pdf, f"- {item}")
    pdf.ln(2)
