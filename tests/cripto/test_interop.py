"""An election run entirely by our code — custodians 3 of 5, 1,000 ballots, two questions, one with blank
allowed — checked by belenios-tool 3.0 at every step, and tallied, decrypted and counted by the tool
itself."""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from shared.cripto import simulacro as si
from shared.cripto.pruebas import cjson
from shared.cripto.verificador import verificar_archivo
from tests.support.cripto import PREGUNTAS, Belenios, suma

VOTANTES = 1000


def test_eleccion_nuestra_verificada_por_belenios(belenios: Belenios, tmp_path: Path) -> None:
    s = si.preparar(PREGUNTAS, votantes=VOTANTES, k=3, n=5, nombre="Simulacro de interoperabilidad")
    azar = random.Random(2021)
    votos = [[si.voto_al_azar(q, azar) for q in PREGUNTAS] for _ in range(VOTANTES)]
    assert any(v[1][0] == 1 for v in votos), "al menos un voto en blanco"
    textos = si.boletas(s, votos)

    # 1. Every ballot passes `verify-ballot` before it is appended (against the Setup-only record, since the
    #    tool refuses a ballot already in the archive), then goes through our box.
    inicial = tmp_path / "inicial"
    inicial.mkdir()
    s.urna.archivo.escribir(inicial / f"{s.eleccion.uuid}.bel")
    for i, t in enumerate(textos):
        (inicial / f"b{i}.json").write_text(t)

    def verifica(i: int) -> str:
        return belenios(
            "election", "verify-ballot", "--dir", str(inicial), "--ballot", f"b{i}.json", cwd=inicial
        ).stderr

    with ThreadPoolExecutor(2) as pool:
        salidas = list(pool.map(verifica, range(VOTANTES)))
    assert all("ballot is valid" in o for o in salidas), next(
        o for o in salidas if "ballot is valid" not in o
    )
    for t in textos:
        s.urna.depositar(t)

    # 2. The tool's tally of our ballot box is byte-identical to ours.
    s.urna.cerrar()
    cerrado = tmp_path / "cerrado"
    cerrado.mkdir()
    s.urna.archivo.escribir(cerrado / f"{s.eleccion.uuid}.bel")
    tally, dimension = belenios(
        "election", "compute-encrypted-tally", "--dir", str(cerrado), cwd=cerrado
    ).stdout.split()
    assert tally == s.urna.recuento_texto()
    assert json.loads(dimension)["num_tallied"] == VOTANTES

    # 3. The tool decrypts with our custodians' own seed and encrypted key (Belenios' channel format),
    # combines
    #    and computes our result.
    herramienta = tmp_path / "herramienta"
    herramienta.mkdir()
    (herramienta / f"{s.eleccion.uuid}.bel").write_bytes((cerrado / f"{s.eleccion.uuid}.bel").read_bytes())
    for j in (1, 3, 5):
        (herramienta / f"c{j}.key").write_text(s.custodios[j - 1].semilla)
        (herramienta / f"c{j}.dkey").write_text(cjson(s.claves_privadas[j - 1]))
        pd = belenios(
            "election",
            "decrypt-threshold",
            "--dir",
            str(herramienta),
            "--key",
            f"c{j}.key",
            "--decryption-key",
            f"c{j}.dkey",
            "--trustee-id",
            str(j),
            cwd=herramienta,
        ).stdout
        belenios(
            "archive",
            "add-event",
            "--dir",
            str(herramienta),
            "--type=PartialDecryption",
            entrada=pd,
            cwd=herramienta,
        )
    resultado_tool = json.loads(
        belenios("election", "compute-result", "--dir", str(herramienta), cwd=herramienta).stdout
    )

    s.descifrar([2, 4, 5])
    nuestro = s.urna.publicar()
    assert nuestro == suma(votos) == resultado_tool["result"]

    # 4. Our full record passes the tool's verify and our own (one vote per credential).
    final = tmp_path / "final"
    final.mkdir()
    s.urna.archivo.escribir(final / f"{s.eleccion.uuid}.bel")
    assert "all checks passed" in belenios("election", "verify", "--dir", str(final), cwd=final).stderr
    informe = verificar_archivo((final / f"{s.eleccion.uuid}.bel").read_bytes(), un_voto=True, procesos=2)
    assert informe.resultado == nuestro
    assert informe.contadas == VOTANTES

    # 5. And the record we write is the record we read, byte for byte.
    assert s.urna.archivo.bytes() == (final / f"{s.eleccion.uuid}.bel").read_bytes()
