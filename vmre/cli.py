"""``vmre``: the operator's command line.

vmre run                      the whole platform on this machine (broker, migrations, six services)
vmre token --rol opl --entidad 09   a development JWT (local mode only)
vmre migrate [SERVICIO ...]   apply each service's Alembic migrations
vmre topics                   create the topics the code uses on the configured broker
vmre broker                   only the local broker, in the foreground
vmre replay [SERVICIO ...]    rebuild the read model: empty tablero, republish every outbox
vmre verificar ARCHIVO.bel    audit a Belenios 3.0 election record completely
vmre audit verify SERVICIO    check a service's hash-chained audit log (or --archivo an auditor's export)
vmre datos clave              a new key for VMRE_<SERVICIO>_CLAVES_DATOS
vmre datos rotar SERVICIO     re-encrypt personal data with the first configured key (rotation)
vmre datos depurar SERVICIO --antes-de FECHA   delete personal data past its retention (7 years)
vmre buzon [--para X]         what the platform sent by e-mail and SMS to the local mailbox (local mode)
vmre avisos SERVICIO          the service's messages by state; --reenviar-inciertas after a sender crash
vmre custodio ceremonia ...   a custodian's side of the key ceremony, on the custodian's own machine
vmre custodio descifrar ...   a custodian's partial decryption of the tally, at the electronic MEC
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from shared.settings import SERVICES, AuthSettings, KafkaSettings, ServiceSettings
from vmre.servicios import service_settings

PRODUCERS = [s for s in SERVICES if s != "tablero"]


def _check_services(names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in SERVICES]
    if unknown:
        raise SystemExit(f"servicio desconocido: {', '.join(unknown)} (válidos: {', '.join(SERVICES)})")
    return names or list(SERVICES)


def cmd_token(args: argparse.Namespace) -> int:
    from shared.auth import Rol, mint_token

    settings = AuthSettings()
    try:
        token = mint_token(
            settings,
            Rol(args.rol),
            entidad=args.entidad,
            partido=args.partido,
            sub=args.sub,
            ttl=dt.timedelta(hours=args.horas),
            sede=args.sede,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(token)
    return 0


def _confirmar_huella(huella: str, acordada: str | None) -> bool:
    """Before a custodian's encrypted shares leave: the certificates' fingerprint, compared aloud."""
    if acordada is not None:
        return acordada.strip().lower() == huella
    if not sys.stdin.isatty():
        print(
            f"error: sin terminal para confirmar la huella de los certificados ({huella}): compárela con los "
            "demás custodios y repita con --huella-certificados (la ceremonia se reanuda donde quedó)",
            file=sys.stderr,
        )
        return False
    print(f"\nHuella de los certificados: {huella}", file=sys.stderr)
    respuesta = input(
        "Léala en voz alta: ¿es la misma que ven los demás custodios? (escriba «sí» para seguir) "
    )
    return respuesta.strip().lower() in ("sí", "si")


def cmd_custodio(args: argparse.Namespace) -> int:
    import httpx

    from clientes.custodio import CeremoniaFallida, ceremonia, descifrar

    token = args.token or os.environ.get("VMRE_TOKEN")
    if not token:
        print("error: falta el token de custodio (--token o VMRE_TOKEN)", file=sys.stderr)
        return 2

    def avisar(m: str) -> None:
        print(m, file=sys.stderr, flush=True)

    frase = os.environ.get("VMRE_CUSTODIO_FRASE")
    if not frase:
        if not sys.stdin.isatty():
            print(
                "error: falta la frase de paso que protege su semilla (terminal o VMRE_CUSTODIO_FRASE)",
                file=sys.stderr,
            )
            return 2
        import getpass

        frase = getpass.getpass("Frase de paso de su archivo de estado (protege su semilla): ")
        if not Path(args.estado).exists() and getpass.getpass("Repítala: ") != frase:
            print("error: las dos frases no coinciden; no se creó nada", file=sys.stderr)
            return 2

    async def correr() -> str:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=args.servidor, headers=headers, timeout=60) as cliente:
            if args.accion == "descifrar":
                from shared.cripto.verificador import procesos_por_defecto

                r = await descifrar(
                    cliente,
                    args.eleccion,
                    args.indice,
                    Path(args.estado),
                    frase=frase,
                    electronico=args.electronico,
                    procesos=procesos_por_defecto(),
                    avisar=avisar,
                )
                return json.dumps(r.get("votos") or {"recibidos": r["recibidos"]}, ensure_ascii=False)
            return await ceremonia(
                cliente,
                args.eleccion,
                args.indice,
                Path(args.estado),
                frase=frase,
                espera=args.espera,
                avisar=avisar,
                confirmar=lambda h: asyncio.to_thread(_confirmar_huella, h, args.huella_certificados),
            )

    try:
        print(asyncio.run(correr()))
    except (CeremoniaFallida, httpx.HTTPError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from shared import migrations

    for service in _check_services(args.servicios):
        url = service_settings(service).database_url
        print(f"migrando {service} …", file=sys.stderr, flush=True)
        migrations.upgrade(service, url)
    return 0


def cmd_topics(_args: argparse.Namespace) -> int:
    from shared.bus.kafka import ensure_topics
    from shared.bus.topics import all_topics

    created = asyncio.run(ensure_topics(KafkaSettings(), all_topics()))
    print(f"tópicos creados: {', '.join(created) if created else 'ninguno (ya existían)'}")
    return 0


def cmd_broker(args: argparse.Namespace) -> int:
    import signal

    from vmre.broker import LocalBroker

    broker = LocalBroker(port=args.port)
    broker.start()
    print(f"broker Tansu (memoria) en {broker.bootstrap}; Ctrl-C para detener", file=sys.stderr)
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        broker.stop()
    return 0


async def _replay(services: list[str]) -> dict[str, Any]:
    from shared.bus.outbox import mark_all_unpublished
    from shared.db import make_engine, make_sessionmaker

    done: dict[str, Any] = {}
    # Empty the read model first: whatever arrives from here on, republished or new, is counted once.
    ordered = sorted(services, key=lambda s: s != "tablero")
    for service in ordered:
        settings = service_settings(service)
        engine = make_engine(settings.database_url)
        maker = make_sessionmaker(engine)
        try:
            models = importlib.import_module(f"services.{service}.models")
            async with maker() as session, session.begin():
                if service == "tablero":
                    from services.tablero import repository as tablero_repository

                    await tablero_repository.reset(session)
                    done[service] = "proyecciones vaciadas"
                else:
                    done[service] = await mark_all_unpublished(session, models.Outbox)
        finally:
            await engine.dispose()
    return done


def cmd_replay(args: argparse.Namespace) -> int:
    services = _check_services(args.servicios)
    done = asyncio.run(_replay(services))
    for service, what in done.items():
        if isinstance(what, int):
            print(f"{service}: {what} eventos marcados para republicar (el relay los envía en orden)")
        else:
            print(f"{service}: {what}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from vmre.supervisor import run_platform

    return asyncio.run(run_platform(_check_services(args.servicios)))


def cmd_verificar(args: argparse.Namespace) -> int:
    import time
    from pathlib import Path

    from shared.cripto.verificador import VerificacionFallida, procesos_por_defecto, verificar_archivo

    if args.lista_credenciales is not None and not args.clave_autoridad:
        print(
            "error: --lista-credenciales necesita --clave-autoridad (la clave pública de la autoridad de "
            "credenciales, obtenida de ella: GET /v1/clave-firma del servicio credenciales)",
            file=sys.stderr,
        )
        return 2
    leidos: dict[str, bytes | None] = {}
    for opcion in ("archivo", "pruebas_fuertes", "lista_credenciales"):
        nombre = getattr(args, opcion)
        try:
            leidos[opcion] = None if nombre is None else Path(nombre).read_bytes()
        except OSError as e:
            print(f"error: no se pudo leer {nombre}: {e.strerror}", file=sys.stderr)
            return 2
    datos, fuertes, lista = leidos["archivo"] or b"", leidos["pruebas_fuertes"], leidos["lista_credenciales"]
    inicio = time.monotonic()
    try:
        informe = verificar_archivo(
            datos,
            un_voto=args.un_voto,
            procesos=args.procesos or procesos_por_defecto(),
            progreso=lambda m: print(f"… {m}", file=sys.stderr, flush=True),
            pruebas_fuertes=fuertes,
            lista_credenciales=lista,
            clave_autoridad=args.clave_autoridad,
        )
    except VerificacionFallida as e:
        print(f"FALLA en {e.elemento}: {e.motivo}")
        return 1
    for linea in informe.lineas():
        print(linea)
    if informe.fuertes is None and informe.fase in ("PartialDecryption", "Result"):
        print(
            "nota: no se revisaron las pruebas fuertes de descifrado (la prueba de Belenios 3.0 no liga el "
            f"factor); use --pruebas-fuertes con GET /v1/elecciones/{informe.uuid}/pruebas-fuertes.json"
        )
    print(f"verificación completa: todo correcto ({time.monotonic() - inicio:.1f} s)")
    return 0


async def _verificar_bitacora(service: str) -> tuple[int, int]:
    from sqlalchemy import func, select

    from shared import auditoria
    from shared.db import make_engine, make_sessionmaker

    engine = make_engine(service_settings(service).database_url)
    try:
        maker = make_sessionmaker(engine)
        modelo = importlib.import_module(f"services.{service}.models").Bitacora
        async with maker() as session:
            sin_sellar = await session.scalar(
                select(func.count()).select_from(modelo).where(modelo.seq.is_(None))
            )
        return await auditoria.verificar_base(maker, modelo), int(sin_sellar or 0)
    finally:
        await engine.dispose()


def _leer_exportacion(ruta: Path) -> Any:
    with ruta.open(encoding="utf-8") as f:
        for n, linea in enumerate(f, 1):
            if linea.strip():
                try:
                    yield json.loads(linea)
                except ValueError as exc:
                    raise ValueError(f"línea {n} no es JSON") from exc


def cmd_audit(args: argparse.Namespace) -> int:
    from shared.auditoria import Falla, verificar

    if bool(args.servicio) == bool(args.archivo):
        print("error: indique un SERVICIO o --archivo EXPORTACION.jsonl (uno de los dos)", file=sys.stderr)
        return 2
    sin_sellar = 0
    try:
        if args.archivo:
            total = verificar(_leer_exportacion(Path(args.archivo)))
        else:
            _check_services([args.servicio])
            total, sin_sellar = asyncio.run(_verificar_bitacora(args.servicio))
    except Falla as falla:
        print(str(falla))
        return 1
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    extra = f" ({sin_sellar} aún sin sellar)" if sin_sellar else ""
    print(f"cadena íntegra: {total} registros{extra}")
    return 0


CON_DATOS_PERSONALES = ("registro", "postal", "electronico", "credenciales")


def _servicio_con_datos(service: str) -> ServiceSettings:
    if service not in CON_DATOS_PERSONALES:
        raise SystemExit(
            f"{service} no guarda datos personales (los guardan: {', '.join(CON_DATOS_PERSONALES)})"
        )
    return service_settings(service)


async def _rotar(service: str, lote: int) -> dict[str, int]:
    from shared import datos_personales
    from shared.db import make_engine

    settings = _servicio_con_datos(service)
    cifrador = datos_personales.cifrador_de(settings)
    assert cifrador is not None
    metadata = importlib.import_module(f"services.{service}.models").Base.metadata
    engine = make_engine(settings.database_url)
    try:
        return await datos_personales.rotar(
            engine,
            datos_personales.columnas_de(metadata),
            cifrador,
            lote=lote,
            avisar=lambda m: print(f"… {m}", file=sys.stderr, flush=True),
        )
    finally:
        await engine.dispose()


async def _depurar(service: str, antes_de: dt.date, confirmar: bool) -> dict[str, int]:
    from shared import datos_personales
    from shared.db import make_engine, make_sessionmaker

    settings = _servicio_con_datos(service)
    anios: int = getattr(settings, "retencion_anios")  # noqa: B009 (a field of the three services' Settings)
    hoy = dt.datetime.now(dt.UTC).date()
    limite = hoy.replace(year=hoy.year - anios, day=28 if (hoy.month, hoy.day) == (2, 29) else hoy.day)
    if antes_de > limite:
        raise ValueError(
            f"la retención es de {anios} años: solo se depura lo anterior al {limite:%Y-%m-%d} "
            f"(pidió {antes_de:%Y-%m-%d})"
        )
    corte = dt.datetime.combine(antes_de, dt.time(), tzinfo=dt.UTC)
    engine = make_engine(settings.database_url)
    datos_personales.instalar(engine, datos_personales.cifrador_de(settings))
    try:
        maker = make_sessionmaker(engine)
        retencion = importlib.import_module(f"services.{service}.retencion")
        async with maker() as session:
            hechos: dict[str, int] = await retencion.depurar(session, corte)
            await (session.commit() if confirmar else session.rollback())
        return hechos
    finally:
        await engine.dispose()


def cmd_datos(args: argparse.Namespace) -> int:
    from shared.datos_personales import DatoIlegible, generar_clave

    if args.accion == "clave":
        print(generar_clave())
        return 0
    try:
        if args.accion == "rotar":
            hechos = asyncio.run(_rotar(args.servicio, args.lote))
            for tabla, n in hechos.items():
                print(f"{args.servicio}.{tabla}: {n} filas recifradas con la clave nueva")
            print(f"listo: ya puede quitar las claves viejas de VMRE_{args.servicio.upper()}_CLAVES_DATOS")
            return 0
        antes_de = dt.date.fromisoformat(args.antes_de)
        hechos = asyncio.run(_depurar(args.servicio, antes_de, args.confirmar))
    except DatoIlegible as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verbo = "borradas o anonimizadas" if args.confirmar else "se borrarían o anonimizarían"
    for tabla, n in hechos.items():
        print(f"{args.servicio}.{tabla}: {n} filas {verbo}")
    if not args.confirmar:
        print("nada cambió: repita con --confirmar para depurar")
    return 0


def cmd_sede(args: argparse.Namespace) -> int:
    from shared.cripto import sede as sello

    salida = Path(args.salida or f"sede-{args.sede}.jwk")
    if salida.exists():
        print(f"error: {salida} ya existe: no se sobrescribe una clave de sede", file=sys.stderr)
        return 2
    if args.desarrollo:
        jwk, publica = sello.jwk_de_desarrollo(args.sede), sello.PUBLICA_DE_DESARROLLO
    else:
        jwk, publica = sello.generar(args.sede)
    salida.touch(mode=0o600)
    salida.write_text(jwk + "\n")
    print(f"clave privada de la sede {args.sede}: {salida}")
    print("  cárguela en cada módulo de la sede; guárdela como un secreto: abre las credenciales de quienes")
    print("  votan ahí")
    if args.desarrollo:
        print("es la clave de DESARROLLO: solo sirve en modo local (producción la rechaza)")
    else:
        print("clave pública, para la autoridad de credenciales (VMRE_CREDENCIALES_CLAVES_SEDES, JSON):")
        print(f'  "{args.sede}": "{publica}"')
    return 0


def cmd_buzon(args: argparse.Namespace) -> int:
    from vmre import buzon

    if os.environ.get("VMRE_MODE", "local") != "local":
        print("error: el buzón local existe solo en modo local", file=sys.stderr)
        return 2
    if args.accion == "servir":
        return buzon.main([])
    ruta = buzon.archivo()
    mensajes = list(buzon.leer(ruta, args.para))[-args.ultimos :]
    if args.json:
        for m in mensajes:
            print(json.dumps(m, ensure_ascii=False))
        return 0
    if not mensajes:
        print(f"sin mensajes en {ruta}" + (f" para {args.para}" if args.para else ""))
    for m in mensajes:
        print(f"── {m['recibido_at']} · {m['canal']} · para {', '.join(m['para'])}")
        if m["asunto"]:
            print(f"   Asunto: {m['asunto']}")
        print("   " + m["texto"].rstrip().replace("\n", "\n   "))
    return 0


async def _avisos(service: str, reenviar: bool) -> dict[str, int]:
    from sqlalchemy import func, select

    from shared import datos_personales
    from shared.db import make_engine, make_sessionmaker
    from shared.notificaciones import ESTADOS, reenviar_inciertas

    settings = _servicio_con_datos(service)
    modelo = importlib.import_module(f"services.{service}.models").Notificacion
    engine = make_engine(settings.database_url)
    datos_personales.instalar(engine, datos_personales.cifrador_de(settings))
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            reenviadas = await reenviar_inciertas(session, modelo) if reenviar else 0
            filas = await session.execute(select(modelo.estado, func.count()).group_by(modelo.estado))
            conteos: dict[str, int] = {str(estado): int(n) for estado, n in filas.all()}
        return {**{e: conteos.get(e, 0) for e in ESTADOS}, "reenviadas": reenviadas}
    finally:
        await engine.dispose()


def cmd_avisos(args: argparse.Namespace) -> int:
    hechos = asyncio.run(_avisos(args.servicio, args.reenviar_inciertas))
    reenviadas = hechos.pop("reenviadas")
    for estado, n in hechos.items():
        print(f"{args.servicio} · {estado}: {n}")
    if args.reenviar_inciertas:
        print(f"{reenviadas} mensajes inciertos vuelven a enviarse (con su mismo Message-ID)")
    elif hechos["incierta"]:
        print(
            "hay mensajes inciertos: el remitente se detuvo mientras los entregaba. Revise si llegaron "
            "(registro de la pasarela) y, si no, `vmre avisos SERVICIO --reenviar-inciertas`."
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="vmre", description="Plataforma VMRE: operación local y herramientas."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("run", help="toda la plataforma en esta máquina")
    p.add_argument("servicios", nargs="*", help="por omisión, los cinco")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("token", help="emite un JWT de desarrollo (solo modo local)")
    p.add_argument(
        "--rol", required=True, choices=["ine-admin", "ine-operador", "opl", "custodio", "auditor", "partido"]
    )
    p.add_argument("--entidad", help="clave de dos dígitos; obligatoria para opl")
    p.add_argument("--partido", help="siglas del partido; obligatorio para partido")
    p.add_argument("--sede", help="sede consular del personal (voto en persona), p. ej. los-angeles")
    p.add_argument("--sub", help="sujeto (usuario); por omisión <rol>-local")
    p.add_argument("--horas", type=float, default=12.0, help="vigencia en horas (12)")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("migrate", help="aplica las migraciones de cada servicio")
    p.add_argument("servicios", nargs="*")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("topics", help="crea los tópicos que usa el código")
    p.set_defaults(func=cmd_topics)

    p = sub.add_parser("broker", help="solo el broker local (Tansu, en memoria)")
    p.add_argument("--port", type=int, default=9092)
    p.set_defaults(func=cmd_broker)

    p = sub.add_parser("replay", help="reconstruye el modelo de lectura desde los outbox")
    p.add_argument("servicios", nargs="*", help="por omisión todos: tablero se vacía y los demás republican")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser(
        "verificar",
        help="audita un registro de elección Belenios 3.0 (.bel): boletas, recuento, descifrados, resultado",
    )
    p.add_argument("archivo", help="el archivo <uuid>.bel")
    p.add_argument(
        "--un-voto",
        action="store_true",
        help="falla si una credencial votó más de una vez (regla de VMRE; Belenios cuenta la última)",
    )
    p.add_argument(
        "--procesos", type=int, default=0, help="procesos para verificar boletas (todos los núcleos)"
    )
    p.add_argument(
        "--pruebas-fuertes",
        metavar="ARCHIVO.json",
        help="revisa también la prueba fuerte de cada descifrado parcial (extensión de VMRE; el documento "
        "de GET /v1/elecciones/{uuid}/pruebas-fuertes.json)",
    )
    p.add_argument(
        "--lista-credenciales",
        metavar="LISTA.json",
        help="exige que las credenciales del archivo sean exactamente las de la lista firmada por la "
        "autoridad de credenciales (GET /v1/elecciones/{uuid}/lista del servicio credenciales)",
    )
    p.add_argument(
        "--clave-autoridad",
        metavar="CLAVE",
        help="clave pública Ed25519 (hex) de la autoridad de credenciales, obtenida de ella (su GET "
        "/v1/clave-firma), nunca de la lista misma",
    )
    p.set_defaults(func=cmd_verificar)

    p = sub.add_parser("audit", help="bitácora de auditoría encadenada")
    asub = p.add_subparsers(dest="accion", required=True)
    a = asub.add_parser("verify", help="verifica la cadena y nombra el primer eslabón roto")
    a.add_argument("servicio", nargs="?", help="lee la base de datos configurada del servicio")
    a.add_argument("--archivo", help="o una exportación JSON Lines de GET /v1/auditoria (sin conexión)")
    a.set_defaults(func=cmd_audit)

    p = sub.add_parser("datos", help="datos personales: claves, rotación y retención")
    dsub = p.add_subparsers(dest="accion", required=True)
    d = dsub.add_parser("clave", help="genera una clave Fernet para VMRE_<SERVICIO>_CLAVES_DATOS")
    d.set_defaults(func=cmd_datos)
    d = dsub.add_parser(
        "rotar",
        help="recifra con la primera clave de VMRE_<SERVICIO>_CLAVES_DATOS todo lo cifrado con otra y "
        "recalcula los índices ciegos; por lotes, se puede repetir",
    )
    d.add_argument("servicio", choices=CON_DATOS_PERSONALES)
    d.add_argument("--lote", type=int, default=500, help="filas por transacción (500)")
    d.set_defaults(func=cmd_datos)
    d = dsub.add_parser(
        "depurar", help="borra los datos personales cuya retención (VMRE_<SERVICIO>_RETENCION_ANIOS) venció"
    )
    d.add_argument("servicio", choices=CON_DATOS_PERSONALES)
    d.add_argument("--antes-de", required=True, help="AAAA-MM-DD: lo anterior a esta fecha (UTC)")
    d.add_argument("--confirmar", action="store_true", help="sin esto solo cuenta lo que borraría")
    d.set_defaults(func=cmd_datos)

    p = sub.add_parser("sede", help="voto en persona: la clave de una sede consular para sus módulos")
    ssub = p.add_subparsers(dest="accion", required=True)
    s = ssub.add_parser(
        "clave", help="genera la clave de la sede: la privada a un archivo, la pública en pantalla"
    )
    s.add_argument("sede", help="clave de la sede, como en el archivo del proceso (los-angeles)")
    s.add_argument("--salida", help="archivo de la clave privada (sede-<sede>.jwk)")
    s.add_argument(
        "--desarrollo", action="store_true", help="la clave de desarrollo (modo local: make run, pruebas)"
    )
    s.set_defaults(func=cmd_sede)

    p = sub.add_parser("buzon", help="el buzón local: correos y SMS que la plataforma envió (modo local)")
    p.add_argument(
        "accion",
        nargs="?",
        choices=["leer", "servir"],
        default="leer",
        help="leer (por omisión) o servir: el servidor SMTP y de SMS (vmre run ya lo arranca)",
    )
    p.add_argument("--para", help="solo los mensajes a este correo o teléfono")
    p.add_argument("--ultimos", type=int, default=20, help="cuántos, los más recientes (20)")
    p.add_argument("--json", action="store_true", help="una línea JSON por mensaje")
    p.set_defaults(func=cmd_buzon)

    p = sub.add_parser("avisos", help="mensajes a la ciudadanía de un servicio, por estado")
    p.add_argument("servicio", choices=CON_DATOS_PERSONALES)
    p.add_argument(
        "--reenviar-inciertas",
        action="store_true",
        help="vuelve a enviar los que quedaron inciertos (el remitente se detuvo al enviarlos)",
    )
    p.set_defaults(func=cmd_avisos)

    p = sub.add_parser("custodio", help="custodios de la llave de la elección (en su propio equipo)")
    csub = p.add_subparsers(dest="accion", required=True)
    c = csub.add_parser(
        "ceremonia",
        help="generación de la llave k de n: certificado, polinomio y clave de verificación (se reanuda)",
    )
    c.add_argument("--servidor", default="http://127.0.0.1:8003", help="URL del servicio electronico")
    c.add_argument("--eleccion", required=True, help="uuid de la elección")
    c.add_argument("--indice", type=int, required=True, help="su posición de custodio (1..n)")
    c.add_argument("--estado", required=True, help="archivo de estado: su semilla secreta; consérvelo")
    c.add_argument("--token", help="token de custodio (o VMRE_TOKEN)")
    c.add_argument("--espera", type=float, default=2.0, help="segundos entre consultas (2)")
    c.add_argument(
        "--huella-certificados",
        help="la huella de los certificados acordada en voz alta; sin ella, se pregunta en la terminal antes "
        "de enviar las partes cifradas",
    )
    c.set_defaults(func=cmd_custodio)
    d = csub.add_parser(
        "descifrar", help="descifrado parcial del recuento cifrado, con pruebas (mesa electrónica)"
    )
    d.add_argument("--servidor", default="http://127.0.0.1:8004", help="URL del servicio computo")
    d.add_argument(
        "--electronico",
        default="http://127.0.0.1:8003",
        help="URL del servicio electronico: de ahí se descarga y verifica el archivo público antes de "
        "descifrar",
    )
    d.add_argument("--eleccion", required=True, help="uuid de la elección")
    d.add_argument("--indice", type=int, required=True, help="su posición de custodio (1..n)")
    d.add_argument("--estado", required=True, help="el archivo de estado de la ceremonia")
    d.add_argument("--token", help="token de custodio (o VMRE_TOKEN)")
    d.set_defaults(func=cmd_custodio)

    args = parser.parse_args(argv)
    if args.command == "token" and (
        AuthSettings().jwks_url or os.environ.get("VMRE_MODE", "local") != "local"
    ):
        print("error: con VMRE_AUTH_JWKS_URL los tokens los emite el proveedor de identidad", file=sys.stderr)
        return 2
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
