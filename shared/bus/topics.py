"""Every topic the platform uses: ``vmre.<servicio>.<agregado>``, dead letters in ``<topic>.dlq``.

This registry is the one place the code names topics; the Kubernetes manifests are checked against it.
"""

from __future__ import annotations

REGISTRO_SOLICITUD = "vmre.registro.solicitud"

# topic -> producing service
TOPICS: dict[str, str] = {
    REGISTRO_SOLICITUD: "registro",
}


def dlq(topic: str) -> str:
    return f"{topic}.dlq"


def all_topics() -> list[str]:
    return [*TOPICS, *(dlq(t) for t in TOPICS)]
