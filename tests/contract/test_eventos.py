"""The events between services are contracts: each payload model of shared/events has its JSON Schema saved
in tests/contract/esquemas/. A change to a payload fails here until its schema is saved again, and the failure
says whether the change breaks consumers (a field removed or retyped, a new required field, an allowed value
gone: an event already in a topic or an outbox would no longer be read) or is compatible (a new optional
field).

Save the schemas after a compatible change: ``VMRE_CONTRATOS_GUARDAR=1 .venv/bin/pytest tests/contract``.
A breaking change needs a new event type or ``schema_version``, and a consumer that reads both."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import shared.events

ESQUEMAS = Path(__file__).parent / "esquemas"


def modelos() -> dict[str, type[BaseModel]]:
    """Every payload model defined in shared/events, by ``<module>.<Class>``."""
    encontrados: dict[str, type[BaseModel]] = {}
    for info in pkgutil.iter_modules(shared.events.__path__):
        modulo = importlib.import_module(f"shared.events.{info.name}")
        for nombre, clase in inspect.getmembers(modulo, inspect.isclass):
            if issubclass(clase, BaseModel) and clase.__module__ == modulo.__name__:
                encontrados[f"{info.name}.{nombre}"] = clase
    return dict(sorted(encontrados.items()))


def _resolver(esquema: dict[str, Any], raiz: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in esquema:
        return _resolver(raiz["$defs"][esquema["$ref"].rsplit("/", 1)[1]], raiz)
    return esquema


def _tipos(esquema: dict[str, Any], raiz: dict[str, Any]) -> set[str]:
    esquema = _resolver(esquema, raiz)
    if "anyOf" in esquema:
        return set().union(*(_tipos(s, raiz) for s in esquema["anyOf"]))
    if "const" in esquema:
        return {f"const:{esquema['const']}"}
    if "enum" in esquema:
        return {f"const:{v}" for v in esquema["enum"]}
    return {str(esquema.get("type", "any")) + ("/" + str(esquema["format"]) if "format" in esquema else "")}


def incompatibilidades(viejo: dict[str, Any], nuevo: dict[str, Any], raiz_v: Any = None, raiz_n: Any = None,
                       ruta: str = "") -> list[str]:  # fmt: skip
    """What a consumer built for ``viejo`` can no longer read, or what an old event lacks for ``nuevo``."""
    raiz_v, raiz_n = raiz_v or viejo, raiz_n or nuevo
    viejo, nuevo = _resolver(viejo, raiz_v), _resolver(nuevo, raiz_n)
    errores = []
    props_v, props_n = viejo.get("properties", {}), nuevo.get("properties", {})
    for campo in sorted(set(props_v) - set(props_n)):
        errores.append(f"{ruta}{campo}: el campo ya no existe")
    for campo in sorted(set(nuevo.get("required", [])) - set(viejo.get("required", []))):
        errores.append(f"{ruta}{campo}: ahora es obligatorio y los eventos anteriores no lo traen")
    for campo in sorted(set(props_v) & set(props_n)):
        tv, tn = _tipos(props_v[campo], raiz_v), _tipos(props_n[campo], raiz_n)
        if not tv <= tn:
            errores.append(f"{ruta}{campo}: el tipo cambió de {sorted(tv)} a {sorted(tn)}")
        sub_v, sub_n = _resolver(props_v[campo], raiz_v), _resolver(props_n[campo], raiz_n)
        if "properties" in sub_v and "properties" in sub_n:
            errores += incompatibilidades(sub_v, sub_n, raiz_v, raiz_n, f"{ruta}{campo}.")
    return errores


@pytest.mark.parametrize("nombre", list(modelos()))
def test_cada_evento_conserva_su_contrato(nombre: str) -> None:
    actual = modelos()[nombre].model_json_schema()
    archivo = ESQUEMAS / f"{nombre}.json"
    if os.environ.get("VMRE_CONTRATOS_GUARDAR") == "1":
        archivo.write_text(json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n")
    assert archivo.exists(), f"{nombre}: evento nuevo sin contrato guardado (VMRE_CONTRATOS_GUARDAR=1)"
    guardado = json.loads(archivo.read_text())
    if guardado != actual:
        rotas = incompatibilidades(guardado, actual)
        if rotas:
            pytest.fail(f"{nombre}: cambio INCOMPATIBLE con los consumidores:\n  " + "\n  ".join(rotas))
        pytest.fail(f"{nombre}: cambio compatible; guarde el contrato con VMRE_CONTRATOS_GUARDAR=1")


def test_ningun_contrato_guardado_sobra() -> None:
    sobrantes = {a.stem for a in ESQUEMAS.glob("*.json")} - set(modelos())
    assert sobrantes == set(), f"contratos de eventos que ya no existen: {sorted(sobrantes)}"


def test_la_revision_distingue_lo_que_rompe() -> None:
    """The classifier itself can fail: each kind of breaking change is named, an optional field is not."""
    from shared.events.registro import SolicitudRecibida

    viejo = SolicitudRecibida.model_json_schema()

    class SinFolio(BaseModel):  # folio removed, entidad retyped, a new required field
        entidad: int
        modalidad: str
        recibida_at: str
        pais: str | None = None
        consulado: str

    class ConOpcional(SolicitudRecibida):
        consulado: str | None = None

    rotas = incompatibilidades(viejo, SinFolio.model_json_schema())
    assert "folio: el campo ya no existe" in rotas
    assert "consulado: ahora es obligatorio y los eventos anteriores no lo traen" in rotas
    assert any(r.startswith("entidad: el tipo cambió") for r in rotas)
    assert any(
        r.startswith("modalidad: el tipo cambió") for r in rotas
    )  # any string: beyond what consumers know
    assert incompatibilidades(viejo, ConOpcional.model_json_schema()) == []
