"""tablero's pages: the staff console's process overview and closing report (services/tablero/consola.py).
Its texts live in ``textos/es.toml`` and ``textos/en.toml``; the frame is shared/paginas' ``consola.html``."""

from __future__ import annotations

from pathlib import Path

from shared.paginas import Paginas

PAGINAS = Paginas(Path(__file__).resolve().parent)
