"""A custodian's state file never keeps the seed in clear beside the key it protects: the seed is sealed
under the custodian's passphrase (argon2id, libsodium's secretbox). A copy of the file alone opens nothing,
a wrong passphrase sends nothing, a short one is refused before anything is created."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from clientes.custodio import CeremoniaFallida, ceremonia, descifrar, leer_estado
from tests.support.electronico import FRASE, Electronico, inscrito


@pytest.mark.slow
async def test_la_semilla_solo_se_guarda_sellada_con_la_frase(electronico: Electronico) -> None:
    e = electronico
    await e.entregar(inscrito(1))
    uuid = str((await e.elecciones("09"))[0]["uuid"])
    await e.ceremonia(uuid)
    ruta = e.estados / f"custodio-{uuid}-1.json"
    abierto = leer_estado(ruta, FRASE)
    texto = ruta.read_text()
    en_disco = json.loads(texto)
    assert "semilla" not in en_disco
    assert abierto["semilla"] not in texto
    assert en_disco["semilla_cifrada"]["kdf"] == "argon2id"
    assert en_disco["semilla_cifrada"]["m_kib"] >= 65536
    assert ruta.stat().st_mode & 0o077 == 0  # only its owner reads it
    with pytest.raises(CeremoniaFallida, match="la frase de paso no abre"):
        leer_estado(ruta, FRASE + " (otra)")

    # The decryption with a wrong passphrase stops before asking anything of any server.
    pedidos: list[httpx.Request] = []

    def anotar(r: httpx.Request) -> httpx.Response:
        pedidos.append(r)
        return httpx.Response(500)

    async with httpx.AsyncClient(transport=httpx.MockTransport(anotar), base_url="http://computo") as c:
        with pytest.raises(CeremoniaFallida, match="la frase de paso no abre"):
            await descifrar(c, uuid, 1, ruta, frase="no es la frase", electronico=c, avisar=lambda _m: None)
    assert pedidos == []


async def test_una_frase_corta_no_crea_nada(tmp_path: Path) -> None:
    ruta = tmp_path / "c1.json"
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _r: httpx.Response(500))) as c:
        with pytest.raises(CeremoniaFallida, match="al menos 12 caracteres"):
            await ceremonia(c, "Ab3dEf6hIj9kLm", 1, ruta, frase="corta", avisar=lambda _m: None)
    assert not ruta.exists()
