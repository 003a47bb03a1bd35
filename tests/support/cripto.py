"""The reference implementation, belenios-tool 3.0, as a fixture; elections made by it and by us."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.cripto import boleta as bo
from shared.cripto.eleccion import Pregunta

RAIZ = Path(__file__).resolve().parents[2]
DATOS = RAIZ / "tests" / "cripto" / "datos"
EJEMPLO = DATOS / "JG7B1QEfASjpXH.bel"  # written by belenios-tool 3.0 (Single + Pedersen 3 of 5, a revote)
RESULTADO_EJEMPLO = [[2, 4, 0, 1, 2], [2, 3, 3, 2, 3]]

PREGUNTAS = [
    Pregunta(("Alicia", "Beto", "Carla", "Dante", "Elena"), 1, 1, "P1: elija una"),
    Pregunta(("Rojo", "Verde", "Azul", "Amarillo"), 1, 2, "P2: una o dos, o en blanco", blanco=True),
]


@dataclass(frozen=True)
class Belenios:
    ruta: Path

    def __call__(
        self, *args: str, cwd: Path, entrada: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        r = subprocess.run(
            [str(self.ruta), *args], cwd=cwd, input=entrada, capture_output=True, text=True, timeout=300
        )
        if check and r.returncode != 0:
            raise AssertionError(f"belenios-tool {' '.join(args)} → {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r


@pytest.fixture(scope="session")
def belenios() -> Belenios:
    ruta = Path(os.environ.get("VMRE_BELENIOS_TOOL", RAIZ / ".tools/belenios/bin/belenios-tool"))
    if not os.access(ruta, os.X_OK):
        pytest.fail(
            f"falta belenios-tool en {ruta}: ejecute `bash scripts/belenios-tool.sh` (make test lo hace)"
        )
    version = subprocess.run([str(ruta), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("3.0"), version
    return Belenios(ruta)


def suma(votos: list[list[list[int]]]) -> list[list[int]]:
    return [[sum(v[q][j] for v in votos) for j in range(len(votos[0][q]))] for q in range(len(votos[0]))]


@pytest.fixture(scope="module")
def eleccion_de_belenios(
    belenios: Belenios, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[list[int]]]:
    """An election made entirely by belenios-tool 3.0: credentials, Single + Pedersen 3 of 5, ballots, a
    revote, tally, partial decryptions of the server and of custodians 2, 4, 5, result. Returns (dir,
    result)."""
    d = tmp_path_factory.mktemp("belenios")
    t = belenios
    uuid = t("setup", "generate-token", cwd=d).stdout.strip()
    (d / "voters.txt").write_text("".join(f"votante{i}@example.org\n" for i in range(1, 7)))
    t("setup", "generate-credentials", "--uuid", uuid, "--group", "Ed25519", "--file", "voters.txt", cwd=d)
    (pub,) = d.glob("*.pubcreds")
    (priv,) = d.glob("*.privcreds")
    pub.rename(d / "public_creds.json")
    privadas = list(json.loads(priv.read_text()).values())
    ids = []
    for i in range(1, 6):
        ti = d / f"t{i}"
        ti.mkdir()
        ids.append(
            t(
                "setup",
                "generate-trustee-key-threshold",
                "--group",
                "Ed25519",
                "--threshold-context",
                f"{i}/3/5",
                "--step",
                "1",
                cwd=ti,
            ).stdout.strip()
        )
    (d / "certs.jsons").write_text(
        "".join((d / f"t{i}" / f"{ids[i - 1]}.cert").read_text().strip() + "\n" for i in range(1, 6))
    )
    comun = ["setup", "generate-trustee-key-threshold", "--group", "Ed25519", "--certs", "certs.jsons"]
    t(*comun, "--step", "2", cwd=d)
    polinomios = "".join(
        t(*comun, "--key", f"t{i}/{ids[i - 1]}.key", "--step", "3", cwd=d).stdout for i in range(1, 6)
    )
    (d / "polynomials.jsons").write_text(polinomios)
    t(*comun, "--step", "4", "--polynomials", "polynomials.jsons", cwd=d)
    salidas = "".join(
        t(
            *comun,
            "--key",
            f"t{i}/{ids[i - 1]}.key",
            "--step",
            "5",
            entrada=(d / f"{ids[i - 1]}.vinput").read_text(),
            cwd=d,
        ).stdout
        for i in range(1, 6)
    )
    umbral = t(*comun, "--step", "6", "--polynomials", "polynomials.jsons", entrada=salidas, cwd=d).stdout
    (d / "threshold.json").write_text(umbral)
    servidor = d / "server"
    servidor.mkdir()
    t("setup", "generate-trustee-key", "--group", "Ed25519", cwd=servidor)
    (d / "public_keys.jsons").write_text(next(servidor.glob("*.pubkey")).read_text())
    t("setup", "make-trustees", cwd=d)
    plantilla = {
        "description": "Elección de prueba hecha por belenios-tool",
        "name": "Prueba",
        "questions": [p.json() for p in PREGUNTAS],
    }
    (d / "template.json").write_text(json.dumps(plantilla))
    t("setup", "make-election", "--uuid", uuid, "--group", "Ed25519", "--template", "template.json", cwd=d)
    t("archive", "init", cwd=d)
    votos = [
        [[1, 0, 0, 0, 0], [0, 1, 0, 0, 0]],
        [[0, 1, 0, 0, 0], [0, 1, 1, 0, 0]],
        [[0, 0, 1, 0, 0], [1, 0, 0, 0, 0]],
        [[0, 1, 0, 0, 0], [0, 0, 0, 1, 1]],
        [[0, 0, 0, 0, 1], [0, 0, 0, 0, 1]],
    ]
    revoto = [[0, 0, 0, 1, 0], [1, 0, 0, 0, 0]]  # voter 2 votes again: the last ballot counts
    for cred, v in [*zip(privadas, votos, strict=False), (privadas[1], revoto)]:
        (d / "cred.txt").write_text(cred)
        (d / "choice.json").write_text(json.dumps(v))
        b = t(
            "election", "generate-ballot", "--privcred", "cred.txt", "--choice", "choice.json", cwd=d
        ).stdout
        t("archive", "add-event", "--type=Ballot", entrada=b, cwd=d)
    t("archive", "add-event", "--type=EndBallots", entrada="", cwd=d)
    t(
        "archive",
        "add-event",
        "--type=EncryptedTally",
        entrada=t("election", "compute-encrypted-tally", cwd=d).stdout,
        cwd=d,
    )
    privkey = next(servidor.glob("*.privkey"))
    pd = t("election", "decrypt", "--privkey", str(privkey), "--trustee-id", "1", cwd=d).stdout
    t("archive", "add-event", "--type=PartialDecryption", entrada=pd, cwd=d)
    for i in (2, 4, 5):
        pd = t(
            "election",
            "decrypt-threshold",
            "--key",
            f"t{i}/{ids[i - 1]}.key",
            "--decryption-key",
            f"{ids[i - 1]}.dkey",
            "--trustee-id",
            str(i + 1),
            cwd=d,
        ).stdout
        t("archive", "add-event", "--type=PartialDecryption", entrada=pd, cwd=d)
    t("archive", "add-event", "--type=Result", entrada=t("election", "compute-result", cwd=d).stdout, cwd=d)
    contados = [votos[0], revoto, *votos[2:]]
    return d, suma(contados)


def el_archivo(d: Path) -> Path:
    (bel,) = d.glob("*.bel")
    return bel


# --- A dishonest voting device: encrypts anything and runs the honest prover on a false claim
# ------------------


def boleta_tramposa(
    eleccion: object, credencial: str, votos: list[list[int]], rama: Callable[[int, int], int]
) -> str:
    """A signed ballot for vectors that need not be valid. Where the true branch of a proof does not exist,
    ``rama(n_ramas, pedida)`` picks which branch the prover pretends is true."""
    import shared.cripto.boleta as modulo

    original = modulo.disyuncion

    def disyuncion(y, ramas, verdadera, prefijo):  # type: ignore[no-untyped-def]
        if not 0 <= verdadera < len(ramas):
            verdadera = rama(len(ramas), verdadera)
        return original(y, ramas, verdadera, prefijo)

    valida = Pregunta.valida
    modulo.disyuncion = disyuncion
    Pregunta.valida = lambda _self, _v: True  # type: ignore[method-assign,assignment]
    try:
        return bo.cifrar(eleccion, credencial, votos)  # type: ignore[arg-type]
    finally:
        modulo.disyuncion = original
        Pregunta.valida = valida  # type: ignore[method-assign]


def boleta_sin_verificar(texto: str) -> bo.Boleta:
    """Parse a ballot's ciphertexts without checking anything (to build a forged record)."""
    return bo.leer_sin_verificar(texto)
