"""The layers of the codebase, read from the source (every import, also those inside functions):

- ``shared/`` is a leaf: the service kit never imports a service, the platform's tools or a client;
- ``clientes/`` (code on a custodian's machine) needs only ``shared/``;
- a service never imports another service (they talk only through Kafka events) nor the tools;
- no import cycle anywhere among the project's modules, whether hidden in a function or not.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAQUETES = ("shared", "services", "vmre", "clientes", "simulacion", "bench")


def _modulo(archivo: Path) -> str:
    partes = list(archivo.relative_to(ROOT).with_suffix("").parts)
    if partes[-1] == "__init__":
        partes.pop()
    return ".".join(partes)


def _importados(archivo: Path, modulo: str) -> set[str]:
    arbol = ast.parse(archivo.read_text(encoding="utf-8"))
    paquete = modulo if archivo.name == "__init__.py" else modulo.rpartition(".")[0]
    nombres: set[str] = set()
    for nodo in ast.walk(arbol):
        if isinstance(nodo, ast.Import):
            nombres |= {a.name for a in nodo.names}
        elif isinstance(nodo, ast.ImportFrom):
            base = nodo.module or ""
            if nodo.level:
                arriba = paquete.split(".")[: len(paquete.split(".")) - (nodo.level - 1)]
                base = ".".join([*arriba, *([base] if base else [])])
            nombres.add(base)
            nombres |= {f"{base}.{a.name}" for a in nodo.names}
    return {n for n in nombres if n.split(".")[0] in PAQUETES}


Grafo = dict[str, set[str]]  # module -> the project's modules it imports


def grafo() -> Grafo:
    archivos = [
        a
        for p in PAQUETES
        for a in (ROOT / p).rglob("*.py")
        if "migrations" not in a.parts and "node_modules" not in a.parts
    ]
    modulos = {_modulo(a): a for a in archivos}
    g: Grafo = {m: set() for m in modulos}
    for modulo, archivo in modulos.items():
        for nombre in _importados(archivo, modulo):
            # "from shared import web" and "from shared.web import x" both name the module shared.web
            destino = nombre if nombre in modulos else nombre.rpartition(".")[0]
            if destino in modulos and destino != modulo:
                g[modulo].add(destino)
    return g


def _capa(modulo: str) -> str:
    partes = modulo.split(".")
    return ".".join(partes[:2]) if partes[0] == "services" and len(partes) > 1 else partes[0]


def violaciones(g: Grafo) -> list[str]:
    permitido = {
        "shared": {"shared"},
        "clientes": {"clientes", "shared"},
        "vmre": {"vmre", "shared", "services", "clientes"},
    }
    errores = []
    for origen, destino in ((o, d) for o, ds in g.items() for d in ds):
        capa, otra = _capa(origen), _capa(destino)
        if capa.startswith("services."):
            ok = otra in (capa, "shared")
        else:
            ok = otra.split(".")[0] in permitido.get(capa, set(PAQUETES))
        if not ok:
            errores.append(f"{origen} importa {destino}")
    return sorted(errores)


def test_shared_es_una_hoja_y_cada_capa_importa_solo_lo_suyo() -> None:
    assert violaciones(grafo()) == []


def ciclo(g: Grafo) -> list[str]:
    """One import cycle of ``g`` (the modules in order, the first one repeated at the end), or []."""
    try:
        graphlib.TopologicalSorter(g).prepare()
    except graphlib.CycleError as exc:
        return list(reversed(exc.args[1]))
    return []


def test_sin_ciclos_de_importacion() -> None:
    assert " → ".join(ciclo(grafo())) == ""


def test_la_revision_ve_lo_escondido_en_una_funcion(tmp_path: Path) -> None:
    """The checks themselves can fail: a function-level import of a service from shared/ is seen, and so is
    the cycle it closes (services.registro.config imports shared.settings)."""
    g = grafo()
    assert "services.registro.config" not in g["shared.settings"]
    falso = tmp_path / "settings.py"
    falso.write_text("def f():\n    from services.registro import config\n    return config\n")
    for nombre in _importados(falso, "shared.settings"):
        destino = nombre if nombre in g else nombre.rpartition(".")[0]
        if destino in g:
            g["shared.settings"].add(destino)
    assert "shared.settings importa services.registro.config" in violaciones(g)
    assert {"shared.settings", "services.registro.config"} <= set(ciclo(g))


def _importados_por_nombre(archivo: Path) -> set[str]:
    """The modules named by a string given to ``importlib.import_module`` or ``__import__`` (of an f-string,
    its literal start: ``f"services.{x}.config"`` names ``services.``), imports the graph above cannot see."""
    nombres: set[str] = set()
    for nodo in ast.walk(ast.parse(archivo.read_text(encoding="utf-8"))):
        if not isinstance(nodo, ast.Call) or not nodo.args:
            continue
        funcion = nodo.func
        nombre = funcion.attr if isinstance(funcion, ast.Attribute) else getattr(funcion, "id", "")
        if nombre not in ("import_module", "__import__"):
            continue
        texto = nodo.args[0]
        if isinstance(texto, ast.JoinedStr) and texto.values:
            texto = texto.values[0]
        if isinstance(texto, ast.Constant) and isinstance(texto.value, str):
            nombres.add(texto.value)
    return nombres


def escondidos_en_shared(archivos: list[Path]) -> list[str]:
    """Who in shared/ imports another layer by name (``importlib.import_module("services...")``)."""
    return sorted(
        f"{archivo.name} importa {nombre}"
        for archivo in archivos
        for nombre in _importados_por_nombre(archivo)
        if nombre.split(".")[0] in PAQUETES and nombre.split(".")[0] != "shared"
    )


def test_shared_no_importa_un_servicio_por_nombre(tmp_path: Path) -> None:
    assert escondidos_en_shared(list((ROOT / "shared").rglob("*.py"))) == []
    falso = tmp_path / "migrations.py"
    falso.write_text('import importlib\n\nimportlib.import_module(f"services.{servicio}.config")\n')
    assert escondidos_en_shared([falso]) == ["migrations.py importa services."]
