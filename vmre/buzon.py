"""The local mailbox (local mode only): the gateways the services write to on a developer's machine.

- An SMTP server (``aiosmtpd``) on ``VMRE_BUZON_SMTP`` (127.0.0.1:1025) that parses every message it receives.
- On ``VMRE_BUZON_HTTP`` (127.0.0.1:8025): the SMS endpoint of the same contract the services use in
  production (Twilio's ``POST /2010-04-01/Accounts/{sid}/Messages.json``), a page that lists what arrived
  (``/``) and the same as JSON (``/v1/mensajes?para=…&desde=…``).
- Everything received is one JSON line in ``VMRE_DATA_DIR/buzon/mensajes.jsonl`` (``vmre buzon`` reads it).

What a real gateway refuses, it refuses too, so the platform's handling of it can be seen: recipients
under the reserved ``.invalid`` domain (RFC 2606) get ``550``; Twilio's documented test numbers
+15005550001 (invalid), +15005550002 (cannot route), +15005550003 (no international permission),
+15005550004 (blocked) and
+15005550009 (not a mobile) get its 400 errors. ``vmre run`` starts it in local mode; production services
refuse to deliver to it (``shared.notificaciones.AjustesAvisos``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import email
import html
import json
import re
import secrets
import sys
from collections.abc import Iterator
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

from shared.notificaciones import buzon_local
from shared.paginas import CABECERAS
from shared.settings import data_dir

ESTILO = (
    "body{font-family:sans-serif;max-width:60rem;margin:auto}article{border-bottom:1px solid #ccc}"
    ".meta{color:#555}pre{white-space:pre-wrap}"
)

TELEFONO = re.compile(r"^\+[1-9][0-9]{7,14}$")
# Twilio's magic "To" numbers (test credentials) and the error each one returns.
NUMEROS_DE_PRUEBA = {
    "+15005550001": (21211, "The 'To' number is not a valid phone number."),
    "+15005550002": (21612, "The 'To' phone number is not currently reachable via SMS."),
    "+15005550003": (21408, "Permission to send an SMS has not been enabled for the region."),
    "+15005550004": (21610, "Attempt to send to unsubscribed recipient."),
    "+15005550009": (21614, "'To' number is not a valid mobile number."),
}


def archivo(directorio: Path | None = None) -> Path:
    return (directorio or data_dir() / "buzon") / "mensajes.jsonl"


def leer(ruta: Path, para: str | None = None, desde: int = 0) -> Iterator[dict[str, Any]]:
    """The stored messages (from line ``desde``), optionally only those to ``para``."""
    if not ruta.exists():
        return
    with ruta.open(encoding="utf-8") as f:
        for n, linea in enumerate(f):
            if n < desde or not linea.endswith("\n"):
                continue
            m = json.loads(linea)
            if para is None or para in m["para"]:
                yield {"n": n, **m}


class Almacen:
    def __init__(self, ruta: Path) -> None:
        self.ruta = ruta
        ruta.parent.mkdir(parents=True, exist_ok=True)
        self.f = ruta.open("a", encoding="utf-8")

    def guardar(self, mensaje: dict[str, Any]) -> None:
        mensaje = {"recibido_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), **mensaje}
        self.f.write(json.dumps(mensaje, ensure_ascii=False) + "\n")
        self.f.flush()

    def cerrar(self) -> None:
        self.f.close()


class ManejadorSMTP:
    """aiosmtpd handler: refuses ``.invalid`` recipients, parses and stores each message."""

    def __init__(self, almacen: Almacen) -> None:
        self.almacen = almacen

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:  # noqa: ARG002 — aiosmtpd handler signature
        if address.lower().rstrip(">").endswith(".invalid"):
            return "550 5.1.2 El dominio del destinatario no existe (.invalid)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: ARG002 — aiosmtpd handler signature
        # compat32 parsing (the default policy costs a few ms a message): headers decoded by hand.
        m = email.message_from_bytes(envelope.content)
        partes: dict[str, str] = {}
        for parte in m.walk():
            tipo = parte.get_content_type()
            if tipo in ("text/plain", "text/html") and tipo not in partes:
                crudo = parte.get_payload(decode=True)
                if isinstance(crudo, bytes):
                    texto = crudo.decode(parte.get_content_charset() or "utf-8", errors="replace")
                    partes[tipo] = texto.replace("\r\n", "\n")  # SMTP's line ends, as the sender wrote them
        self.almacen.guardar(
            {
                "canal": "email",
                "de": envelope.mail_from,
                "para": list(envelope.rcpt_tos),
                "asunto": str(make_header(decode_header(m.get("Subject", "")))),
                "message_id": str(m.get("Message-ID", "")).strip(),
                "texto": partes.get("text/plain", ""),
                "html": partes.get("text/html"),
            }
        )
        return "250 2.0.0 Mensaje recibido"


def _app(almacen: Almacen) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, JSONResponse, Response
    from starlette.routing import Route

    def error_twilio(status: int, codigo: int, mensaje: str) -> JSONResponse:
        return JSONResponse(
            {"code": codigo, "message": mensaje, "more_info": f"https://www.twilio.com/docs/errors/{codigo}",
             "status": status},
            status_code=status,
        )  # fmt: skip

    async def sms(request: Request) -> JSONResponse:
        cuenta = request.path_params["cuenta"]
        auth = request.headers.get("authorization", "")
        try:
            usuario = base64.b64decode(auth.removeprefix("Basic ")).decode().partition(":")[0]
        except ValueError:
            usuario = ""
        if not auth.startswith("Basic ") or usuario != cuenta:
            return error_twilio(401, 20003, "Authenticate")
        form = await request.form()
        para, cuerpo = str(form.get("To", "")), str(form.get("Body", ""))
        de = str(form.get("From") or form.get("MessagingServiceSid") or "")
        if not de:
            return error_twilio(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not cuerpo:
            return error_twilio(400, 21602, "Message body is required.")
        if not TELEFONO.match(para):
            return error_twilio(400, 21211, f"The 'To' number {para} is not a valid phone number.")
        if para in NUMEROS_DE_PRUEBA:
            return error_twilio(400, *NUMEROS_DE_PRUEBA[para])
        sid = "SM" + secrets.token_hex(16)
        almacen.guardar({"canal": "sms", "de": de, "para": [para], "asunto": "", "message_id": sid,
                         "texto": cuerpo, "html": None})  # fmt: skip
        ahora = dt.datetime.now(dt.UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
        return JSONResponse(
            {"sid": sid, "account_sid": cuenta, "to": para, "from": de, "body": cuerpo, "status": "queued",
             "num_segments": str(len(cuerpo) // 153 + 1), "date_created": ahora, "api_version": "2010-04-01",
             "uri": f"/2010-04-01/Accounts/{cuenta}/Messages/{sid}.json"},
            status_code=201,
        )  # fmt: skip

    async def mensajes(request: Request) -> JSONResponse:
        para = request.query_params.get("para") or None
        desde = int(request.query_params.get("desde", "0") or 0)
        return JSONResponse(list(leer(almacen.ruta, para, desde)))

    async def pagina(request: Request) -> HTMLResponse:
        para = request.query_params.get("para") or None
        ultimos = list(leer(almacen.ruta, para))[-100:][::-1]
        filas = "".join(
            f"<article><h2>{html.escape(m['asunto'] or '(SMS)')}</h2>"
            f"<p class=meta>{html.escape(m['canal'])} · "
            f"para {html.escape(', '.join(m['para']))} · {html.escape(m['recibido_at'])}</p>"
            f"<pre>{html.escape(m['texto'])}</pre></article>"
            for m in ultimos
        )
        return HTMLResponse(
            '<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Buzón local · VMRE</title>'
            '<link rel="stylesheet" href="/buzon.css"></head><body><h1>Buzón local</h1>'
            "<p>Solo en modo local: lo que la plataforma envió por correo (SMTP) y por SMS. "
            '<form><input name="para" placeholder="correo o teléfono"><button>Filtrar</button></form></p>'
            f"{filas or '<p>Sin mensajes.</p>'}</body></html>",
            headers=CABECERAS,
        )

    async def estilo(_request: Request) -> Response:
        return Response(ESTILO, media_type="text/css", headers={"X-Content-Type-Options": "nosniff"})

    return Starlette(
        routes=[
            Route("/2010-04-01/Accounts/{cuenta}/Messages.json", sms, methods=["POST"]),
            Route("/v1/mensajes", mensajes),
            Route("/", pagina),
            Route("/buzon.css", estilo),
        ]
    )


async def servir(directorio: Path, smtp: tuple[str, int], http: tuple[str, int]) -> None:
    import uvicorn
    from aiosmtpd.smtp import SMTP

    almacen = Almacen(archivo(directorio))
    loop = asyncio.get_running_loop()
    manejador = ManejadorSMTP(almacen)
    servidor_smtp = await loop.create_server(
        lambda: SMTP(manejador, hostname="buzon.vmre.local", ident="VMRE buzon local"), *smtp
    )
    config = uvicorn.Config(_app(almacen), host=http[0], port=http[1], log_level="warning", access_log=False)
    servidor_http = uvicorn.Server(config)
    print(
        f"buzón local: SMTP en {smtp[0]}:{smtp[1]}, SMS y página en http://{http[0]}:{http[1]}/ "
        f"(guarda en {almacen.ruta})",
        flush=True,
    )
    try:
        await servidor_http.serve()  # until SIGINT/SIGTERM
    finally:
        servidor_smtp.close()
        await servidor_smtp.wait_closed()
        almacen.cerrar()


def main(argv: list[str] | None = None) -> int:
    smtp, http = buzon_local()
    p = argparse.ArgumentParser(prog="python -m vmre.buzon", description=__doc__.splitlines()[0])
    p.add_argument("--dir", type=Path, default=None, help="directorio del buzón (VMRE_DATA_DIR/buzon)")
    args = p.parse_args(argv)
    asyncio.run(servir(args.dir or data_dir() / "buzon", smtp, http))
    return 0


if __name__ == "__main__":
    sys.exit(main())
