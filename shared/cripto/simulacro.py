"""A whole election run by our code, every party in one process: for drills, tests and benchmarks.

The steps are the real ones (credential authority, threshold key generation among custodians, ballots made on
the "device", the checked ballot box, partial decryptions); only the fact that they run side by side is not.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from shared.cripto import boleta as bo
from shared.cripto import escrutinio as es
from shared.cripto.custodios import Custodio, Custodios, generar_semilla, parametros_umbral
from shared.cripto.eleccion import (
    Eleccion,
    Pregunta,
    credencial_publica,
    generar_credencial,
    generar_uuid,
    ordenar_credenciales,
)
from shared.cripto.urna import Urna


@dataclass
class Simulacro:
    urna: Urna
    custodios: list[Custodio]
    claves_privadas: list[dict[str, str]]  # each custodian's encrypted decryption key (step 3)
    credenciales: list[str]  # private credentials, one per voter

    @property
    def eleccion(self) -> Eleccion:
        return self.urna.eleccion

    def descifrar(self, indices: list[int]) -> None:
        """Partial decryptions by these custodians (1-based, in the Pedersen group), appended to the box."""
        recuento = self.urna.recuento
        assert recuento is not None
        for j in indices:
            c = self.custodios[j - 1]
            s_j = c.clave_descifrado(self.claves_privadas[j - 1])
            self.urna.agregar_descifrado(j, es.descifrado_parcial(self.eleccion.huella, s_j, recuento))


def generacion_de_claves(k: int, n: int) -> tuple[list[Custodio], list[dict[str, str]], Custodios]:
    """The threshold key ceremony, with the messages each custodian would publish or send."""
    custodios = [Custodio(generar_semilla(), i, k, n) for i in range(1, n + 1)]
    certs = [c.certificado() for c in custodios]
    polinomios = [c.polinomio(certs) for c in custodios]
    claves = [c.clave_verificacion(certs, polinomios) for c in custodios]
    umbral = parametros_umbral(certs, polinomios, claves)
    return custodios, [c["private_key"] for c in claves], Custodios([umbral])


def preparar(
    preguntas: list[Pregunta], votantes: int, k: int = 3, n: int = 5, nombre: str = "Simulacro"
) -> Simulacro:
    custodios, privadas, publicos = generacion_de_claves(k, n)
    uuid = generar_uuid()
    eleccion = Eleccion.crear(
        uuid=uuid,
        nombre=nombre,
        descripcion=nombre,
        clave_publica=publicos.clave_eleccion(),
        preguntas=preguntas,
    )
    credenciales = [generar_credencial() for _ in range(votantes)]
    publicas = ordenar_credenciales([credencial_publica(uuid, c) for c in credenciales])
    return Simulacro(Urna.abrir(eleccion, publicos, publicas), custodios, privadas, credenciales)


def voto_al_azar(q: Pregunta, azar: random.Random) -> list[int]:
    """A valid random answer: blank sometimes when allowed, else between min and max choices."""
    if q.blanco and azar.random() < 0.1:
        return [1] + [0] * len(q.respuestas)
    marcadas = set(azar.sample(range(len(q.respuestas)), azar.randint(q.minimo, q.maximo)))
    votos = [1 if i in marcadas else 0 for i in range(len(q.respuestas))]
    return ([0, *votos]) if q.blanco else votos


def boletas(s: Simulacro, votos: list[list[list[int]]]) -> list[str]:
    return [bo.cifrar(s.eleccion, cred, v) for cred, v in zip(s.credenciales, votos, strict=False)]
