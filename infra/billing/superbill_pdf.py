"""The superbill as a PDF, drawn with fpdf2 (pure Python, no system libraries).

Text is set in the PDF core font Helvetica, whose encoding is Latin-1: characters outside it (a name in another
script) are replaced by "?" rather than failing the download. Embedding a Unicode TTF would lift that; the codes
and amounts an insurer reads are ASCII either way.
"""

from __future__ import annotations

from fpdf import FPDF

from domain.billing.superbill import Superbill, SuperbillProvider, diagnosis_pointers, format_money

_COLUMNS = (
    ("Date of service", 30),
    ("CPT", 20),
    ("Modifier", 18),
    ("POS", 12),
    ("Diagnoses", 50),
    ("Fee", 30),
    ("Paid", 30),
)


def _text(value: str) -> str:
    return value.encode("latin-1", "replace").decode("latin-1")


class FpdfSuperbillRenderer:
    def render(self, superbill: Superbill) -> bytes:
        pdf = FPDF(orientation="P", unit="mm", format="A4")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.set_title("Superbill")
        pdf.set_creator("Hearth")
        # A page or two: compression saves little, and plain text streams let simple tools search the codes.
        pdf.set_compression(False)
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 16)
        pdf.cell(0, 10, "Superbill", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        period = f"Period: {superbill.period_from.isoformat()} to {superbill.period_to.isoformat()}"
        pdf.cell(0, 6, period, new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 6, _text(f"Client: {superbill.client_name}"), new_x="LMARGIN", new_y="NEXT")
        born = superbill.date_of_birth.isoformat() if superbill.date_of_birth else "not recorded"
        pdf.cell(0, 6, f"Date of birth: {born}", new_x="LMARGIN", new_y="NEXT")
        if not superbill.providers:
            pdf.ln(4)
            pdf.cell(0, 6, "No billed sessions in this period.", new_x="LMARGIN", new_y="NEXT")
        for provider in superbill.providers:
            self._provider(pdf, provider)
        return bytes(pdf.output())

    def _provider(self, pdf: FPDF, provider: SuperbillProvider) -> None:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 7, _text(f"Practice: {provider.practice_name}"), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        rows = (
            f"Provider: {provider.therapist_name}",
            f"NPI: {provider.npi or 'not recorded'}",
            f"Licenses: {', '.join(provider.licenses) or 'not recorded'}",
            f"Tax ID: {provider.tax_id or 'not recorded'}",
        )
        for row in rows:
            pdf.cell(0, 6, _text(row), new_x="LMARGIN", new_y="NEXT")
        pointers = diagnosis_pointers(provider.lines)
        pdf.cell(
            0, 6, f"Diagnoses (ICD-10-CM): {', '.join(pointers) or 'none recorded'}", new_x="LMARGIN", new_y="NEXT"
        )
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", 9)
        for title, width in _COLUMNS:
            pdf.cell(width, 7, title, border=1)
        pdf.ln()
        pdf.set_font("Helvetica", "", 9)
        for line in provider.lines:
            cells = (
                line.service_date.isoformat(),
                line.cpt or "-",
                line.modifier or "-",
                line.place_of_service,
                ", ".join(line.diagnoses) or "-",
                format_money(line.fee),
                format_money(line.paid),
            )
            for (_, width), value in zip(_COLUMNS, cells, strict=True):
                pdf.cell(width, 7, value, border=1)
            pdf.ln()
        pdf.set_font("Helvetica", "B", 9)
        pdf.cell(sum(w for _, w in _COLUMNS[:5]), 7, "Total", border=1)
        pdf.cell(_COLUMNS[5][1], 7, format_money(provider.total_fee), border=1)
        pdf.cell(_COLUMNS[6][1], 7, format_money(provider.total_paid), border=1)
        pdf.ln()
