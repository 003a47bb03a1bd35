"""Every topic the platform uses: ``vmre.<servicio>.<agregado>``, dead letters in ``<topic>.dlq``.

This registry is the one place the code names topics; the Kubernetes manifests are checked against it.
"""

from __future__ import annotations

REGISTRO_SOLICITUD = "vmre.registro.solicitud"
REGISTRO_LNERE = "vmre.registro.lnere"
REGISTRO_LNERE_POSTAL = "vmre.registro.lnere_postal"
REGISTRO_LNERE_ELECTRONICA = "vmre.registro.lnere_electronica"

POSTAL_PAQUETE = "vmre.postal.paquete"
POSTAL_SOBRE = "vmre.postal.sobre"
POSTAL_VOTO = "vmre.postal.voto"
POSTAL_MESA = "vmre.postal.mesa"

ELECTRONICO_ELECCION = "vmre.electronico.eleccion"
ELECTRONICO_VOTO = "vmre.electronico.voto"

COMPUTO_ESCRUTINIO = "vmre.computo.escrutinio"
COMPUTO_ACTA = "vmre.computo.acta"

CREDENCIALES_LISTA = "vmre.credenciales.lista"

# topic -> producing service
TOPICS: dict[str, str] = {
    REGISTRO_SOLICITUD: "registro",
    REGISTRO_LNERE: "registro",
    REGISTRO_LNERE_POSTAL: "registro",
    REGISTRO_LNERE_ELECTRONICA: "registro",
    POSTAL_PAQUETE: "postal",
    POSTAL_SOBRE: "postal",
    POSTAL_VOTO: "postal",
    POSTAL_MESA: "postal",
    ELECTRONICO_ELECCION: "electronico",
    ELECTRONICO_VOTO: "electronico",
    COMPUTO_ESCRUTINIO: "computo",
    COMPUTO_ACTA: "computo",
    CREDENCIALES_LISTA: "credenciales",
}


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics() -> list[str]:
    return [*TOPICS, *(dlq(t) for t in TOPICS)]
