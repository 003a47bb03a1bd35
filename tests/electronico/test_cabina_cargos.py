"""Several offices in one sitting, in a real browser (issue 27): a voter of Aguascalientes in the 2024 process
votes the Presidencia and the Senaduría on one form, confirms both on one screen and gets one receipt per
ballot. A credential typed for the wrong ballot loses that ballot only: the other is recorded, the booth says
which one was not, and the voter casts it afterwards in the same session. One encrypted ballot per election,
nothing in clear on the wire."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from services.electronico.models import Boleta
from shared.proceso import cargar
from shared.settings import KafkaSettings
from tests.support.comun import Buzon, Databases
from tests.support.electronico import (
    PASSWORD,
    Electronico,
    electronico_2024,
    inscrito,
)
from tests.support.navegador import (  # noqa: F401
    CAPTURAS,
    accesible,
    ingresar_a_la_cabina,
    navegador,
    pagina_nueva,
)
from tests.support.registro import centro

pytestmark = [pytest.mark.e2e, pytest.mark.externo]
PEF2024 = cargar("pef2024")
EN_CAMPANA = centro(2024, 5, 25, 10, 0)  # internet voting: 18 May 20:00 → 2 Jun 18:00 Centro


@pytest.fixture
async def pef2024(
    databases: Databases,
    offline_kafka: KafkaSettings,
    buzon: Buzon,
    token: Callable[..., dict[str, str]],
    tmp_path: Path,
) -> AsyncIterator[tuple[str, Electronico]]:
    async with electronico_2024(databases, offline_kafka, buzon, token, tmp_path, EN_CAMPANA, http=True) as x:
        yield x


async def test_todas_las_boletas_en_una_sesion(
    pef2024: tuple[str, Electronico],
    navegador: Any,  # noqa: F811
) -> None:
    base, e = pef2024
    await e.entregar(inscrito(1, "01"))
    elecciones = {x["cargo"]: x for x in await e.elecciones("01")}
    assert sorted(elecciones) == ["presidencia", "senaduria"]
    # The ballots' candidacies, approved before the deadline (the 2024 process opens no election without).
    await e.aprobar_candidaturas_01()
    for x in elecciones.values():
        await e.abrir(x["uuid"])
    (cuenta,) = (await e.cuentas_del_buzon()).values()
    presidencia = "Presidencia de la República · Aguascalientes"
    senaduria = "Senaduría · Aguascalientes"
    assert sorted(cuenta.credenciales) == [presidencia, senaduria]  # one message, one credential per ballot

    pagina, problemas = await pagina_nueva(navegador)
    enviados: list[str] = []
    pagina.on("request", lambda rq: enviados.append(rq.post_data or "") if rq.method == "POST" else None)
    await ingresar_a_la_cabina(pagina, base, cuenta.usuario, cuenta.clave_acceso, PASSWORD)

    # Both ballots on one form, in the process file's order (the national office first).
    boletas = pagina.locator("#lista fieldset legend")
    await boletas.first.wait_for()
    assert await boletas.all_inner_texts() == [presidencia, senaduria]
    await accesible(pagina, "cabina-dos-boletas")
    # Each option with the name of the person its party or coalition nominated.
    pan = "Partido Acción Nacional — Nombre de Prueba Senado"
    morena = "Morena — Claudia Sheinbaum Pardo"
    # Nothing marked: nothing to confirm, and the booth says why.
    await pagina.get_by_role("button", name="Continuar").click()
    assert await pagina.locator("#aviso").inner_text() == "Marque una opción en al menos una boleta."
    assert await pagina.locator("#confirmacion").is_hidden()
    # One marked: the confirmation says the other is not cast now; the voter goes back and marks it.
    await pagina.get_by_role("group", name=presidencia).get_by_role("radio", name=morena, exact=True).check()
    await pagina.get_by_role("button", name="Continuar").click()
    assert await pagina.locator("#resumen li").all_inner_texts() == [f"{presidencia}: {morena}"]
    assert (await pagina.locator("#sin-marcar").inner_text()).startswith(f"No marcó: {senaduria}.")
    await pagina.get_by_role("button", name="Cambiar mi elección").click()
    await pagina.get_by_role("group", name=senaduria).get_by_role("radio", name=pan, exact=True).check()
    await pagina.get_by_role("button", name="Continuar").click()

    # One confirmation screen listing both choices, a credential field for each ballot.
    await pagina.locator("#confirmacion").wait_for()
    assert await pagina.locator("#resumen li").all_inner_texts() == [
        f"{presidencia}: {morena}",
        f"{senaduria}: {pan}",
    ]
    assert await pagina.locator("#sin-marcar").is_hidden()
    await accesible(pagina, "cabina-confirmar-dos")
    # The Senaduría's field gets the Presidencia's credential (well formed, wrong ballot): refused there only.
    de_presidencia = cuenta.credenciales[presidencia]
    await pagina.get_by_label(f"Credencial de votación · {presidencia}").fill(de_presidencia)
    await pagina.get_by_label(f"Credencial de votación · {senaduria}").fill(de_presidencia)
    await pagina.get_by_role("button", name="Confirmar y emitir mi voto").click()
    await pagina.locator("#acuses .rastreador").first.wait_for()
    assert len(await pagina.locator("#acuses li").all()) == 1
    assert (await pagina.locator("#acuses li").inner_text()).startswith(presidencia)
    aviso = await pagina.locator("#aviso").inner_text()
    assert aviso.startswith(f"No se emitió {senaduria}: ")

    # Back to the ballots: the Presidencia shows its receipt; the Senaduría is still open, cast now.
    await pagina.get_by_role("button", name="Volver a mis boletas").click()
    ya_voto = "Usted ya votó en esta elección"
    await pagina.get_by_role("group", name=presidencia).get_by_text(ya_voto).wait_for()
    assert await pagina.get_by_role("group", name=presidencia).get_by_role("radio").count() == 0
    await pagina.get_by_role("group", name=senaduria).get_by_role("radio", name=pan, exact=True).check()
    await pagina.get_by_role("button", name="Continuar").click()
    assert await pagina.locator("#resumen li").all_inner_texts() == [f"{senaduria}: {pan}"]
    await pagina.get_by_label(f"Credencial de votación · {senaduria}").fill(cuenta.credenciales[senaduria])
    await pagina.get_by_role("button", name="Confirmar y emitir mi voto").click()
    await pagina.locator("#acuses .rastreador").first.wait_for()
    await pagina.get_by_role("button", name="Buscar este acuse en el tablón público").click()
    await pagina.locator("#acuses li p").filter(has_text="Su boleta está en la urna (posición").wait_for()
    await pagina.screenshot(path=str(CAPTURAS / "cabina-dos-boletas-acuse.png"), full_page=True)
    await pagina.get_by_role("button", name="Volver a mis boletas").click()
    await pagina.get_by_role("group", name=senaduria).get_by_text(ya_voto).wait_for()
    assert await pagina.get_by_role("button", name="Continuar").is_hidden()
    # The only failed request is the refused ballot (the wrong credential).
    assert len(problemas) == 1
    assert problemas[0].startswith("4")
    assert problemas[0].endswith(f"/v1/elecciones/{elecciones['senaduria']['uuid']}/boletas")

    # One ballot in each election's urn, encrypted: no choice left the browser in clear.
    async with e.app.state.runtime.maker() as s:
        por_eleccion = dict(
            (await s.execute(select(Boleta.eleccion, func.count()).group_by(Boleta.eleccion))).all()
        )
    assert por_eleccion == {elecciones["presidencia"]["uuid"]: 1, elecciones["senaduria"]["uuid"]: 1}
    boletas_enviadas = [b for b in enviados if '"answers"' in b]
    assert len(boletas_enviadas) == 3  # the refused one included
    assert not any("MORENA" in b.upper() or "ACCIÓN NACIONAL" in b.upper() for b in boletas_enviadas)
