"""The ballot box: an election record that only ever grows by checked steps.

``Urna`` is what the platform runs: it opens an election (Setup), accepts a ballot only after checking it
completely and only once per credential (our law: one vote per citizen), closes, stores the encrypted tally,
accepts each custodian's partial decryption after checking its proof, and publishes the result. Its archive is
a Belenios 3.0 ``.bel`` at every moment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from shared.cripto import boleta as bo
from shared.cripto import escrutinio as es
from shared.cripto.archivo import Archivo
from shared.cripto.custodios import Custodios
from shared.cripto.eleccion import Eleccion, leer_credenciales_publicas
from shared.cripto.grupo import sha256_hex
from shared.cripto.pruebas import cjson


class OperacionInvalida(ValueError):
    """A step that does not fit the election's phase (or was already done)."""


@dataclass
class Urna:
    archivo: Archivo
    eleccion: Eleccion
    custodios: Custodios
    pesos: dict[str, int]
    boletas: list[bo.Boleta] = field(default_factory=list)
    recuento: es.Recuento | None = None
    peso_total: int = 0
    parciales: dict[int, list[list[bytes]]] = field(default_factory=dict)
    resultado: list[list[int]] | None = None
    votaron: set[str] = field(default_factory=set)  # public credentials that have a ballot in the box

    @classmethod
    def abrir(
        cls, eleccion: Eleccion, custodios: Custodios, credenciales: list[str], marca: int | None = None
    ) -> Urna:
        """Setup: the election, its trustees and the public credentials (``"<s(C)>"`` each)."""
        if custodios.clave_eleccion() != eleccion.clave_publica:
            raise OperacionInvalida("la clave de la elección no es la de sus custodios")
        pesos = leer_credenciales_publicas(credenciales)
        textos = [eleccion.texto, cjson(custodios.json()).encode(), cjson(credenciales).encode()]
        setup = cjson(
            {
                "election": sha256_hex(textos[0]),
                "trustees": sha256_hex(textos[1]),
                "credentials": sha256_hex(textos[2]),
            }
        ).encode()
        archivo = Archivo(marca=int(time.time()) if marca is None else marca)
        archivo.agregar("Setup", [*textos, setup])
        return cls(archivo, eleccion, custodios, pesos)

    @property
    def fase(self) -> str:
        return self.archivo.eventos[-1].tipo

    def depositar(self, texto: str) -> bo.Boleta:
        """Check a ballot and append it; else ``BoletaInvalida``/``OperacionInvalida`` and nothing changes."""
        if self.fase not in ("Setup", "Ballot"):
            raise OperacionInvalida("la urna está cerrada")
        b = bo.verificar(self.eleccion, texto, self.pesos)
        if b.credencial in self.votaron:
            raise bo.BoletaInvalida(
                "AlreadyVoted", "esta credencial ya votó: solo se admite un voto por ciudadano"
            )
        self.archivo.agregar("Ballot", [texto.encode()])
        self.boletas.append(b)
        self.votaron.add(b.credencial)
        return b

    def cerrar(self) -> es.Recuento:
        """EndBallots and EncryptedTally: the homomorphic product of the ballots."""
        if self.fase not in ("Setup", "Ballot"):
            raise OperacionInvalida("la urna ya estaba cerrada")
        self.archivo.agregar("EndBallots", [])
        formas = [q.opciones for q in self.eleccion.preguntas]
        self.recuento, self.peso_total = es.recuento(formas, self.boletas, self.pesos)
        texto = es.recuento_json(self.recuento).encode()
        dimension = es.recuento_dimensionado_json(len(self.boletas), self.peso_total, sha256_hex(texto))
        self.archivo.agregar("EncryptedTally", [texto, dimension.encode()])
        return self.recuento

    def agregar_descifrado(self, owner: int, texto: str) -> None:
        """A custodian's partial decryption, kept only if every proof checks."""
        if self.recuento is None or self.fase not in ("EncryptedTally", "PartialDecryption"):
            raise OperacionInvalida("no hay recuento cifrado que descifrar o el resultado ya se publicó")
        duenos = self.custodios.duenos()
        if owner not in duenos:
            raise OperacionInvalida(f"no existe el custodio {owner}")
        if owner in self.parciales:
            raise OperacionInvalida(f"el custodio {owner} ya entregó su descifrado parcial")
        self.parciales[owner] = es.verificar_descifrado(
            self.eleccion.huella, duenos[owner][2], self.recuento, texto
        )
        owned = cjson({"owner": owner, "payload": sha256_hex(texto)})
        self.archivo.agregar("PartialDecryption", [texto.encode(), owned.encode()])

    def publicar(self) -> list[list[int]]:
        """Combine the partial decryptions (k of n suffice) and publish the result."""
        if self.recuento is None or self.fase != "PartialDecryption":
            raise OperacionInvalida("faltan el recuento cifrado o los descifrados parciales")
        formas = [q.opciones for q in self.eleccion.preguntas]
        comb = es.combinar(self.custodios, self.parciales, formas)
        self.resultado = es.resultado(self.recuento, comb.factores, self.peso_total)
        self.archivo.agregar("Result", [es.resultado_json(self.resultado).encode()])
        return self.resultado

    def recuento_texto(self) -> str:
        if self.recuento is None:
            raise OperacionInvalida("la urna no se ha cerrado")
        return es.recuento_json(self.recuento)
