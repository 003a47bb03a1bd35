"""The staff console's sign-in in tests: the local identity provider (``python -m vmre.identidad``, the
``oidc-provider-mock`` package) as a process on a loopback port, and the authorization code flow walked with
plain HTTP, cookies by hand (they are ``Secure``: a client keeps them only for https)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from shared.hijos import free_port
from shared.settings import AjustesConsola
from tests.support.e2e import ROOT


@dataclass
class Identidad:
    url: str

    def ajustes(self) -> AjustesConsola:
        return AjustesConsola(oidc_url=self.url, proveedor_local=True)


@pytest.fixture
def identidad() -> Iterator[Identidad]:
    puerto = free_port()
    proceso = subprocess.Popen(
        [sys.executable, "-m", "vmre.identidad"],
        cwd=ROOT,
        env={**os.environ, "VMRE_IDENTIDAD": f"127.0.0.1:{puerto}"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{puerto}"
    try:
        fin = time.monotonic() + 30
        while True:
            try:
                if httpx.get(url + "/.well-known/openid-configuration", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proceso.poll() is not None or time.monotonic() > fin:
                raise AssertionError(f"el proveedor de identidad local no arrancó: {proceso.stderr.read()!r}")  # type: ignore[union-attr]
            time.sleep(0.1)
        yield Identidad(url)
    finally:
        proceso.terminate()
        try:
            proceso.wait(10)
        except subprocess.TimeoutExpired:
            proceso.kill()
            proceso.wait()


def csrf(html: str) -> str:
    """The CSRF token a console page put in its forms."""
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html[:500]
    return m.group(1)


def galletas(r: httpx.Response) -> dict[str, str]:
    """The cookies a response sets (name → value; an empty value: deleted)."""
    return {
        c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0].strip('"')
        for c in r.headers.get_list("set-cookie")
    }


def cabecera(cookies: dict[str, str]) -> dict[str, str]:
    return {"cookie": "; ".join(f"{k}={v}" for k, v in cookies.items() if v)}


async def ingresar(
    app: httpx.AsyncClient, servicio: str, sub: str, siguiente: str | None = None
) -> tuple[dict[str, str], httpx.Response]:
    """Sign in as ``sub`` (a user of vmre/identidad.py): the console's start, the provider's form answered,
    the callback. Returns the session cookie and the callback's answer."""
    q = {"siguiente": siguiente} if siguiente else {}
    inicio = await app.get(f"/consola/{servicio}/entrar", params=q)
    assert inicio.status_code == 303, inicio.text
    ingreso = galletas(inicio)
    async with httpx.AsyncClient(timeout=10) as proveedor:
        autorizado = await proveedor.post(inicio.headers["location"], data={"sub": sub})
    assert autorizado.status_code == 302, autorizado.text
    vuelta = await app.get(autorizado.headers["location"], headers=cabecera(ingreso))
    return {k: v for k, v in galletas(vuelta).items() if k == "vmre_consola"}, vuelta
