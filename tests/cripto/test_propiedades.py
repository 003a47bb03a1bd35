"""Properties of the protocol, over many random cases (hypothesis)."""

from __future__ import annotations

import itertools
import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.cripto import boleta as bo
from shared.cripto import escrutinio as es
from shared.cripto import grupo as gr
from shared.cripto import simulacro as si
from shared.cripto.pruebas import (
    Prueba,
    cjson,
    prefijo_descifrado,
    prefijo_descifrado_fuerte,
    prueba_descifrado_fuerte,
    verifica_descifrado,
    verifica_descifrado_fuerte,
)
from tests.support.cripto import PREGUNTAS, boleta_tramposa, suma

LENTO = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def simulacro() -> si.Simulacro:
    return si.preparar(PREGUNTAS, votantes=40)


@LENTO
@given(m=st.integers(0, 10_000), x=st.integers(1, gr.L - 1), r=st.integers(1, gr.L - 1))
def test_cifrar_y_descifrar(m: int, x: int, r: int) -> None:
    y = gr.gpot(x)
    alfa, beta = gr.gpot(r), gr.mul(gr.pot(y, r), gr.gpot(m))
    assert gr.logaritmos([gr.div(beta, gr.pot(alfa, x))], 10_000) == [m]


def votos_validos() -> st.SearchStrategy[list[list[int]]]:
    def una(q_i: int) -> st.SearchStrategy[list[int]]:
        q = PREGUNTAS[q_i]
        return st.builds(lambda semilla: si.voto_al_azar(q, random.Random(semilla)), st.integers(0, 2**32))

    return st.tuples(una(0), una(1)).map(list)


@LENTO
@given(votos=votos_validos(), votante=st.integers(0, 39))
def test_boletas_validas_verifican(simulacro: si.Simulacro, votos: list[list[int]], votante: int) -> None:
    texto = bo.cifrar(simulacro.eleccion, simulacro.credenciales[votante], votos)
    b = bo.verificar(simulacro.eleccion, texto, simulacro.urna.pesos)
    assert b.texto == texto
    assert len(b.respuestas[1]) == 5  # blank flag + four colours


@LENTO
@given(votos=votos_validos(), votante=st.integers(0, 39))
def test_boletas_hechas_con_el_secreto_son_las_mismas(
    simulacro: si.Simulacro, votos: list[list[int]], votante: int
) -> None:
    """The benchmarks' shortcut (y^e as g^(x·e), with the whole secret): ballots that verify and decrypt to
    the same votes; a wrong secret is refused."""
    partes = {
        c.indice: c.clave_descifrado(simulacro.claves_privadas[c.indice - 1])
        for c in simulacro.custodios[1:4]
    }
    x = sum(lam * partes[i] for i, lam in es.lagrange(list(partes)).items()) % gr.L
    texto = bo.cifrar(simulacro.eleccion, simulacro.credenciales[votante], votos, secreto=x)
    b = bo.verificar(simulacro.eleccion, texto, simulacro.urna.pesos)
    descifrados = [[gr.div(beta, gr.pot(alfa, x)) for alfa, beta in r] for r in b.respuestas]
    assert [gr.logaritmos(fila, 1) for fila in descifrados] == votos
    with pytest.raises(ValueError, match="secreto"):
        bo.cifrar(simulacro.eleccion, simulacro.credenciales[votante], votos, secreto=x + 1)


INVALIDOS = [
    ([[2, 0, 0, 0, 0], [0, 1, 0, 0, 0]], "un 2"),
    ([[-1, 1, 1, 0, 0], [0, 1, 0, 0, 0]], "un −1 que compensa la suma"),
    ([[1, 1, 0, 0, 0], [0, 1, 0, 0, 0]], "dos respuestas donde se admite una"),
    ([[0, 0, 0, 0, 0], [0, 1, 0, 0, 0]], "ninguna donde se exige una"),
    ([[1, 0, 0, 0, 0], [1, 1, 0, 0, 0]], "en blanco y a la vez una opción"),
    ([[1, 0, 0, 0, 0], [0, 1, 1, 1, 0]], "tres donde se admiten dos"),
]


@pytest.mark.parametrize("votos", [v for v, _ in INVALIDOS], ids=[q for _, q in INVALIDOS])
def test_cifrar_se_niega_a_votos_invalidos(simulacro: si.Simulacro, votos: list[list[int]]) -> None:
    with pytest.raises(ValueError, match="no es una forma válida"):
        bo.cifrar(simulacro.eleccion, simulacro.credenciales[0], votos)


@LENTO
@given(caso=st.sampled_from(INVALIDOS), azar=st.randoms(use_true_random=False))
def test_pruebas_de_votos_invalidos_no_verifican(
    simulacro: si.Simulacro, caso: tuple[Any, ...], azar: random.Random
) -> None:
    """A device that encrypts an invalid vector and runs the prover on a false branch: the box refuses it."""
    votos, _ = caso
    texto = boleta_tramposa(
        simulacro.eleccion, simulacro.credenciales[1], votos, lambda n, _p: azar.randrange(n)
    )
    with pytest.raises(bo.BoletaInvalida, match="no verifica") as e:
        bo.verificar(simulacro.eleccion, texto, simulacro.urna.pesos)
    assert e.value.motivo == "InvalidBallot"


@pytest.fixture(scope="module")
def cerrada() -> tuple[si.Simulacro, list[list[int]]]:
    s = si.preparar(PREGUNTAS, votantes=12)
    azar = random.Random(5)
    votos = [[si.voto_al_azar(q, azar) for q in PREGUNTAS] for _ in range(12)]
    for b in si.boletas(s, votos):
        s.urna.depositar(b)
    s.urna.cerrar()
    return s, suma(votos)


def _parciales(s: si.Simulacro, indices: tuple[int, ...]) -> dict[int, list[list[bytes]]]:
    assert s.urna.recuento is not None
    res = {}
    for j in indices:
        s_j = s.custodios[j - 1].clave_descifrado(s.claves_privadas[j - 1])
        texto = es.descifrado_parcial(s.eleccion.huella, s_j, s.urna.recuento)
        publica = s.urna.custodios.duenos()[j][2]
        res[j] = es.verificar_descifrado(s.eleccion.huella, publica, s.urna.recuento, texto)
    return res


def test_cualesquiera_3_de_5_descifran_y_2_no(cerrada: tuple[si.Simulacro, list[list[int]]]) -> None:
    s, esperado = cerrada
    assert s.urna.recuento is not None
    formas = [q.opciones for q in PREGUNTAS]
    todos = _parciales(s, (1, 2, 3, 4, 5))
    for grupo in itertools.combinations(range(1, 6), 3):
        comb = es.combinar(s.urna.custodios, {j: todos[j] for j in grupo}, formas)
        assert es.resultado(s.urna.recuento, comb.factores, 12) == esperado, grupo
    for par in itertools.combinations(range(1, 6), 2):
        with pytest.raises(es.EscrutinioInvalido, match="se necesitan 3"):
            es.combinar(s.urna.custodios, {j: todos[j] for j in par}, formas)
        # Nor does the arithmetic help: Lagrange over two shares does not rebuild the key.
        lam = es.lagrange(list(par))
        factores = [
            [gr.producto([gr.pot(todos[j][q][i], lam[j]) for j in par]) for i in range(n)]
            for q, n in enumerate(formas)
        ]
        with pytest.raises(ValueError, match="fuera"):
            es.resultado(s.urna.recuento, factores, 12)


@LENTO
@given(quien=st.integers(1, 5), otro=st.integers(1, 5), q=st.integers(0, 1), i=st.integers(0, 4))
def test_descifrado_parcial_falso_se_detecta(
    cerrada: tuple[si.Simulacro, list[list[int]]], quien: int, otro: int, q: int, i: int
) -> None:
    s, _ = cerrada
    assert s.urna.recuento is not None
    publica = s.urna.custodios.duenos()[quien][2]
    honesto = es.descifrado_parcial(
        s.eleccion.huella,
        s.custodios[quien - 1].clave_descifrado(s.claves_privadas[quien - 1]),
        s.urna.recuento,
    )
    es.verificar_descifrado(s.eleccion.huella, publica, s.urna.recuento, honesto)
    # 1. one factor replaced (by another value), proofs kept
    o = json.loads(honesto)
    o["decryption_factors"][q][i] = gr.s(gr.mul(gr.elemento(o["decryption_factors"][q][i]), gr.G))
    with pytest.raises(es.EscrutinioInvalido, match="no verifica"):
        es.verificar_descifrado(s.eleccion.huella, publica, s.urna.recuento, cjson(o))
    # 2. a whole decryption made with another custodian's key, claimed as this one's
    if otro != quien:
        ajeno = es.descifrado_parcial(
            s.eleccion.huella,
            s.custodios[otro - 1].clave_descifrado(s.claves_privadas[otro - 1]),
            s.urna.recuento,
        )
        with pytest.raises(es.EscrutinioInvalido, match="no verifica"):
            es.verificar_descifrado(s.eleccion.huella, publica, s.urna.recuento, ajeno)
    # 3. a proof from another entry
    o = json.loads(honesto)
    o["decryption_proofs"][q][i] = o["decryption_proofs"][q][(i + 1) % 5]
    with pytest.raises(es.EscrutinioInvalido, match="no verifica"):
        es.verificar_descifrado(s.eleccion.huella, publica, s.urna.recuento, cjson(o))


def _factor_falso(x: int, alfa: gr.Elemento, prefijo: str) -> tuple[gr.Elemento, Prueba]:
    """The forgery Belenios 3.0's decryption proof lets through: commitments first (A = g^w₁, B = α^w₂), the
    challenge c = H(prefix, A, B), r = w₁ − x·c, and only then the factor f = (B·α^−r)^(1/c) ≠ α^x."""
    w1, w2 = gr.aleatorio(), gr.aleatorio()
    c = gr.hash_escalar(prefijo, [gr.gpot(w1), gr.pot(alfa, w2)])
    r = (w1 - x * c) % gr.L
    return gr.pot(alfa, (w2 - r) * pow(c, -1, gr.L) % gr.L), Prueba(c, r)


@LENTO
@given(quien=st.integers(1, 5), otro=st.integers(1, 5), q=st.integers(0, 1), i=st.integers(0, 4))
def test_prueba_fuerte_de_descifrado(
    cerrada: tuple[si.Simulacro, list[list[int]]], quien: int, otro: int, q: int, i: int
) -> None:
    """VMRE's strong proof: it verifies for the honest factors; not for the forgery that Belenios 3.0's proof
    accepts; not once α, β or f change (it is bound to the whole ciphertext and the factor); not for another
    custodian's key nor another election."""
    s, _ = cerrada
    r = s.urna.recuento
    assert r is not None
    huella = s.eleccion.huella
    x = s.custodios[quien - 1].clave_descifrado(s.claves_privadas[quien - 1])
    publica = s.urna.custodios.duenos()[quien][2]
    assert publica == gr.gpot(x)

    # Honest: every entry's strong proof verifies, and the delivery round-trips.
    factores = es.verificar_descifrado(huella, publica, r, es.descifrado_parcial(huella, x, r))
    fuertes = es.pruebas_fuertes(huella, x, r)
    es.verificar_pruebas_fuertes(huella, publica, r, factores, fuertes)
    texto, fuertes2 = es.leer_entrega(es.entrega_descifrado(huella, x, r))
    es.verificar_pruebas_fuertes(
        huella, publica, r, es.verificar_descifrado(huella, publica, r, texto), fuertes2
    )

    a, b = r[q][i]
    f = gr.pot(a, x)
    p = prueba_descifrado_fuerte(x, huella, publica, a, b, f)
    assert verifica_descifrado_fuerte(huella, publica, a, b, f, p)

    # The weak-proof forgery: its Belenios proof verifies; no strong proof does, neither the honest prover's
    # for that false factor nor one forged the same way (the prefix already names the factor).
    falso, debil = _factor_falso(x, a, prefijo_descifrado(huella, publica))
    assert falso != f
    assert verifica_descifrado(publica, a, falso, prefijo_descifrado(huella, publica), debil)
    assert not verifica_descifrado_fuerte(huella, publica, a, b, falso, debil)
    assert not verifica_descifrado_fuerte(
        huella, publica, a, b, falso, prueba_descifrado_fuerte(x, huella, publica, a, b, falso)
    )
    _, forjada = _factor_falso(x, a, prefijo_descifrado_fuerte(huella, publica, a, b, falso))
    assert not verifica_descifrado_fuerte(huella, publica, a, b, falso, forjada)
    o = json.loads(fuertes)
    falsos = [list(fila) for fila in factores]
    falsos[q][i] = falso
    with pytest.raises(es.EscrutinioInvalido, match=f"pregunta {q + 1}, opción {i + 1}: la prueba fuerte"):
        es.verificar_pruebas_fuertes(huella, publica, r, falsos, cjson(o))

    # Bound to α, β and f: another entry's α (with its own, correct factor), β or f changed.
    a2, _ = r[1 - q][i]
    assert not verifica_descifrado_fuerte(huella, publica, a2, b, gr.pot(a2, x), p)
    assert not verifica_descifrado_fuerte(huella, publica, a, gr.mul(b, gr.G), f, p)
    assert not verifica_descifrado_fuerte(huella, publica, a, b, gr.mul(f, gr.G), p)
    # …and to the key and the election.
    if otro != quien:
        ajena = s.urna.custodios.duenos()[otro][2]
        assert not verifica_descifrado_fuerte(huella, ajena, a, b, f, p)
    assert not verifica_descifrado_fuerte(huella[::-1], publica, a, b, f, p)
    # A proof moved to another entry, in the document: named by pregunta and opción.
    o = json.loads(fuertes)
    o["strong_decryption_proofs"][q][i] = o["strong_decryption_proofs"][q][(i + 1) % 5]
    with pytest.raises(es.EscrutinioInvalido, match=f"pregunta {q + 1}, opción {i + 1}"):
        es.verificar_pruebas_fuertes(huella, publica, r, factores, cjson(o))
