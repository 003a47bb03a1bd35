"""Printable documents (fpdf2): the acta de cómputo, the destruction act of late envelopes, the closing
report. Letter size, the PDF core fonts (Latin-1: anything else is replaced rather than breaking the
document), a title, paragraphs and bordered tables."""

from __future__ import annotations

from collections.abc import Sequence

from fpdf import FPDF


def texto(s: str) -> str:
    """The PDF's core fonts are Latin-1: anything else is replaced rather than breaking the document."""
    return s.encode("latin-1", "replace").decode("latin-1")


class Documento:
    def __init__(self, titulo: str) -> None:
        self.pdf = FPDF(format="Letter")
        self.pdf.set_title(texto(titulo))
        self.pdf.add_page()
        self.pdf.set_font("Helvetica", "B", 14)
        self.pdf.multi_cell(0, 8, texto(titulo), new_x="LMARGIN", new_y="NEXT")

    def seccion(self, titulo: str) -> None:
        self.pdf.ln(3)
        self.pdf.set_font("Helvetica", "B", 12)
        self.pdf.multi_cell(0, 7, texto(titulo), new_x="LMARGIN", new_y="NEXT")

    def parrafo(self, linea: str, tamano: int = 10) -> None:
        self.pdf.set_font("Helvetica", "", tamano)
        self.pdf.multi_cell(0, 5, texto(linea), new_x="LMARGIN", new_y="NEXT")

    def tabla(
        self, encabezados: Sequence[str], filas: Sequence[Sequence[object]], anchos: Sequence[int]
    ) -> None:
        """A bordered table; the header repeats on each new page."""

        def encabezado() -> None:
            self.pdf.set_font("Helvetica", "B", 9)
            for titulo, ancho in zip(encabezados, anchos, strict=True):
                self.pdf.cell(ancho, 6, texto(titulo), border=1)
            self.pdf.ln()
            self.pdf.set_font("Helvetica", "", 9)

        encabezado()
        for fila in filas:
            if self.pdf.will_page_break(6):
                self.pdf.add_page()
                encabezado()
            for valor, ancho in zip(fila, anchos, strict=True):
                self.pdf.cell(ancho, 6, self._cabe("" if valor is None else str(valor), ancho), border=1)
            self.pdf.ln()

    def _cabe(self, valor: str, ancho: int) -> str:
        """The text cut to its column (with an ellipsis), never spilling into the next."""
        s = texto(valor)
        if self.pdf.get_string_width(s) <= ancho - 2:
            return s
        while s and self.pdf.get_string_width(s + "...") > ancho - 2:
            s = s[:-1]
        return s + "..."

    def firmas(self, personas: Sequence[tuple[str, str]]) -> None:
        """A signature line for each person (name, role)."""
        for nombre, cargo in personas:
            if self.pdf.will_page_break(18):
                self.pdf.add_page()
            self.pdf.ln(10)
            self.pdf.set_font("Helvetica", "", 10)
            self.pdf.cell(90, 5, "_" * 40, new_x="LMARGIN", new_y="NEXT")
            self.pdf.multi_cell(0, 5, texto(f"{nombre} · {cargo}"), new_x="LMARGIN", new_y="NEXT")

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())
