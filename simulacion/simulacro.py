"""A whole electoral process as a drill, driven only through the platform's public HTTP APIs.

Phases, each on the process calendar run on the simulated clock: applications and their review, the close of
the LNERE, postal packages out by courier and tracked, internet voters' key ceremony and election opening,
postal envelopes back (some late, some unknown), internet voters logging in (TOTP) and casting ballots
encrypted on "their device" with their credential, the close of the ballot boxes, the custodians' partial
decryptions, the MEC actas (captured twice), the cómputo of each entidad, whose acta gives the final
figures, and the reports that close the process (the late envelopes destroyed in an act, tablero's closing
report with the actas' figures, saved as ``informe-final.json`` in the drill's directory). The people and
their choices are generated from the scenario's seed.

The parts: ``cliente`` (the HTTP client to the platform), ``personas`` (the synthetic people, their mailboxes
and devices), ``fases`` (each phase), ``informe`` (the actas against the scenario, and the summary); this
module runs the phases in order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import sys
from pathlib import Path
from typing import Any

from shared.proceso import Proceso
from simulacion import personas
from simulacion.cliente import Cliente
from simulacion.escenario import Escenario
from simulacion.fases import Fases
from simulacion.plataforma import Plataforma


class Simulacro:
    def __init__(
        self,
        escenario: Escenario,
        proceso: Proceso,
        plataforma: Plataforma,
        *,
        concurrencia: int = 16,
        procesos: int = 2,
    ) -> None:
        self.escenario, self.proceso, self.plataforma = escenario, proceso, plataforma
        self.rng = random.Random(escenario.semilla)
        self.cliente = Cliente(plataforma, concurrencia=concurrencia)
        self.fases = Fases(escenario, proceso, self.cliente, self.rng, procesos=procesos)

    async def correr(self) -> dict[str, dict[str, Any]]:
        f = self.fases
        try:
            f.personas.extend(personas.generar(self.escenario, self.proceso, self.rng))
            f.adicionales.extend(
                personas.generar_adicionales(self.escenario, self.proceso, self.rng, len(f.personas))
            )
            await f.registro()
            await f.candidaturas()  # before the deadline, the ballots of every office
            # Independent work of different services runs at the same time, as it would in a real process:
            # packages go out while the custodians hold the key ceremony and the voters' accounts are
            # created; envelopes arrive while people vote.
            await asyncio.gather(f.envios(), f.ceremonia_y_apertura())
            await self.cliente.reloj(self.proceso.calendario.recepcion_spv_limite - dt.timedelta(days=3))
            await asyncio.gather(f.sobres("en_tiempo"), f.votos_por_internet())
            await f.sobres("extemporaneo")
            await f.votos_en_sede()  # election day: the consular sites' kiosks
            await f.actas_postales()
            await f.escrutinio_electronico()
            actas = await f.computo()
            informe = await f.informe_final(actas)
            destino = Path(self.plataforma.datos) / "informe-final.json"
            texto = json.dumps(informe, ensure_ascii=False, indent=1)
            await asyncio.to_thread(destino.write_text, texto, encoding="utf-8")
            print(f"informe final, con las cifras de las actas: {destino}", file=sys.stderr, flush=True)
            pico = self.plataforma.memoria_pico()
            if pico:
                por_servicio = ", ".join(f"{s} {n / 2**20:,.0f} MiB" for s, n in pico.items())
                print(f"memoria pico por servicio (VmHWM): {por_servicio}", file=sys.stderr, flush=True)
            return actas
        finally:
            await self.cliente.aclose()
