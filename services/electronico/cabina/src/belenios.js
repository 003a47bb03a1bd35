// Belenios 3.0 ballot encryption for the voting booth (browser). A port of shared/cripto/boleta.py `cifrar`:
// the output is the same canonical compact JSON, which shared.cripto.boleta.verificar accepts.
// Curve arithmetic and hashes come from @noble/curves and @noble/hashes; nothing here is hand-written crypto.

import { ed25519 } from "@noble/curves/ed25519.js";
import { bytesToNumberBE } from "@noble/curves/utils.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex, hexToBytes, utf8ToBytes } from "@noble/hashes/utils.js";

const Point = ed25519.Point;
const Fn = Point.Fn; // the scalar field, integers mod ℓ
const L = Fn.ORDER;
const GRUPO = "Ed25519";
const BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

const G = Point.BASE;
const IDENTIDAD = Point.ZERO;

// --- Group and encodings (grupo.py) ---------------------------------------------------------------------

/** g^e, with e reduced mod ℓ (g^0 is the identity, as in grupo.gpot). */
function gpot(e) {
  e = Fn.create(e);
  return e === 0n ? IDENTIDAD : G.multiply(e);
}

/** a^e, with e reduced mod ℓ (grupo.pot). */
function pot(a, e) {
  e = Fn.create(e);
  return e === 0n || a.is0() ? IDENTIDAD : a.multiply(e);
}

function producto(elementos) {
  return elementos.reduce((acc, x) => acc.add(x), IDENTIDAD);
}

/** Belenios' string for an element: the compressed point read big-endian, 64 lowercase hex digits. */
function s(a) {
  return bytesToHex(a.toBytes().reverse());
}

/** Parse an element from Belenios' string; refuses non-canonical encodings and points outside the subgroup. */
function elemento(texto) {
  if (typeof texto !== "string" || !/^[0-9a-f]{64}$/.test(texto)) {
    throw new Error(`no es un elemento del grupo (64 dígitos hex en minúscula): ${String(texto).slice(0, 80)}`);
  }
  let p;
  try {
    p = Point.fromBytes(hexToBytes(texto).reverse());
  } catch {
    throw new Error(`no es un elemento del subgrupo de orden primo: ${texto}`);
  }
  if (!p.is0() && (p.isSmallOrder() || !p.isTorsionFree())) {
    throw new Error(`no es un elemento del subgrupo de orden primo: ${texto}`);
  }
  return p;
}

/** A uniform non-zero scalar: 64 bytes from the browser's CSPRNG reduced mod ℓ−1, plus 1 (grupo.aleatorio). */
function aleatorio() {
  const b = new Uint8Array(64);
  crypto.getRandomValues(b);
  return (bytesToNumberBE(b) % (L - 1n)) + 1n;
}

function sha256Hex(texto) {
  return bytesToHex(sha256(utf8ToBytes(texto)));
}

/** SHA-256 in standard Base64 without padding (φ, the signature's hash). */
function sha256B64(texto) {
  let bin = "";
  for (const byte of sha256(utf8ToBytes(texto))) bin += String.fromCharCode(byte);
  return btoa(bin).replace(/=+$/, "");
}

/** Fiat–Shamir: SHA-256 of ``prefix ‖ s(X1),…,s(Xk)`` read big-endian, mod ℓ. */
function hashEscalar(prefijo, elementos) {
  return Fn.create(BigInt("0x" + sha256Hex(prefijo + elementos.map(s).join(","))));
}

/** Compact JSON; our ballots hold only ASCII strings, so this is byte-for-byte pruebas.cjson. */
function cjson(valor) {
  return JSON.stringify(valor);
}

// --- Proofs (pruebas.py) --------------------------------------------------------------------------------

function pruebaJson(p) {
  return { challenge: p.challenge.toString(), response: p.response.toString() };
}

function schnorr(x, prefijo) {
  const w = aleatorio();
  const c = hashEscalar(prefijo, [gpot(w)]);
  return { challenge: c, response: Fn.sub(w, Fn.mul(x, c)) };
}

/** Disjunctive Chaum–Pedersen: for one branch j, ramas[j] = (g^r, y^r); the true one is `verdadera`. */
function disyuncion(y, ramas, verdadera, r, prefijo) {
  const pruebas = [];
  const compromisos = [];
  const w = aleatorio();
  ramas.forEach(([alfa, beta], j) => {
    if (j === verdadera) {
      pruebas.push(null);
      compromisos.push(gpot(w), pot(y, w));
    } else {
      const c = aleatorio();
      const resp = aleatorio();
      pruebas.push({ challenge: c, response: resp });
      compromisos.push(gpot(resp).add(pot(alfa, c)), pot(y, resp).add(pot(beta, c)));
    }
  });
  const total = hashEscalar(prefijo, compromisos);
  const otros = pruebas.reduce((acc, p) => (p === null ? acc : Fn.add(acc, p.challenge)), 0n);
  const cV = Fn.sub(total, otros);
  pruebas[verdadera] = { challenge: cV, response: Fn.sub(w, Fn.mul(Fn.create(r), cV)) };
  return pruebas;
}

/** Branches for "(α, β) encrypts one of these values": (α, β / g^m) for each m. */
function ramasValores(alfa, beta, valores) {
  return valores.map((m) => [alfa, beta.subtract(gpot(BigInt(m)))]);
}

// --- The election (eleccion.py) -------------------------------------------------------------------------

function esBase58(texto) {
  return [...texto].every((ch) => BASE58.includes(ch));
}

/** 22 base58 characters written 5-6-5-6 with dashes (eleccion.es_credencial). */
export function credencialValida(texto) {
  if (typeof texto !== "string") return false;
  const partes = texto.split("-");
  return (
    partes.length === 4 &&
    [5, 6, 5, 6].every((n, i) => partes[i].length === n) &&
    partes.every(esBase58)
  );
}

/** The signing scalar of a private credential (hashed with its dashes, as belenios-tool does). */
function claveDeCredencial(uuid, credencial) {
  if (!credencialValida(credencial)) {
    throw new Error("credencial con formato inválido (se esperan 22 caracteres base58: XXXXX-XXXXXX-…)");
  }
  const x0 = sha256Hex(`derive_credential|${uuid}|0|${credencial}`);
  const x1 = sha256Hex(`derive_credential|${uuid}|1|${credencial}`);
  return Fn.create(BigInt("0x" + x0 + x1));
}

function entero(o, campo) {
  if (typeof o !== "number" || !Number.isInteger(o)) throw new Error(`${campo}: se esperaba un entero`);
  return o;
}

function leerPregunta(o, i) {
  const n = i + 1;
  if (o === null || typeof o !== "object" || Array.isArray(o) || !("answers" in o)) {
    throw new Error(`pregunta ${n}: solo se admiten preguntas homomórficas (answers/min/max)`);
  }
  const conocidos = ["answers", "blank", "min", "max", "question", "extra"];
  const extra = Object.keys(o).filter((k) => !conocidos.includes(k));
  if (extra.length) throw new Error(`pregunta ${n}: campos desconocidos ${extra.sort().join(", ")}`);
  const respuestas = o.answers;
  if (!Array.isArray(respuestas) || !respuestas.length || !respuestas.every((a) => typeof a === "string")) {
    throw new Error(`pregunta ${n}: answers debe ser una lista de textos`);
  }
  const q = {
    respuestas: respuestas.length,
    minimo: entero(o.min, `pregunta ${n}.min`),
    maximo: entero(o.max, `pregunta ${n}.max`),
    blanco: o.blank === true,
  };
  if (!(0 <= q.minimo && q.minimo <= q.maximo && q.maximo <= q.respuestas)) {
    throw new Error(`pregunta ${n}: se requiere 0 ≤ min ≤ max ≤ número de respuestas`);
  }
  q.opciones = q.respuestas + (q.blanco ? 1 : 0);
  return q;
}

/** Parse election.json as Eleccion.leer does; φ is the hash of the exact text. */
function leerEleccion(texto) {
  if (typeof texto !== "string") throw new Error("election.json debe ser un texto");
  let o;
  try {
    o = JSON.parse(texto);
  } catch (e) {
    throw new Error(`election.json no es JSON: ${e.message}`);
  }
  if (o === null || typeof o !== "object" || Array.isArray(o) || o.version !== 1) {
    throw new Error("election.json: se esperaba version 1");
  }
  if (o.group !== GRUPO) throw new Error(`election.json: grupo ${JSON.stringify(o.group)} no soportado (solo ${GRUPO})`);
  if (typeof o.uuid !== "string" || o.uuid.length < 14 || !esBase58(o.uuid)) {
    throw new Error("election.json: uuid debe tener al menos 14 caracteres base58");
  }
  if (!Array.isArray(o.questions) || !o.questions.length) throw new Error("election.json: questions vacío");
  let clave;
  try {
    clave = elemento(o.public_key);
  } catch (e) {
    throw new Error(`election.json: public_key: ${e.message}`);
  }
  return {
    uuid: o.uuid,
    huella: sha256B64(texto),
    clavePublica: clave,
    preguntas: o.questions.map(leerPregunta),
  };
}

/** Whether a 0/1 vector is a valid way to answer (Pregunta.valida). */
function votoValido(q, votos) {
  if (!Array.isArray(votos) || votos.length !== q.opciones || !votos.every((v) => v === 0 || v === 1)) {
    return false;
  }
  if (q.blanco) {
    if (votos[0] === 1) return votos.slice(1).every((v) => v === 0);
    votos = votos.slice(1);
  }
  const suma = votos.reduce((a, b) => a + b, 0);
  return q.minimo <= suma && suma <= q.maximo;
}

// --- Ballots (boleta.py) --------------------------------------------------------------------------------

function productoCifrados(cts) {
  return [producto(cts.map(([a]) => a)), producto(cts.map(([, b]) => b))];
}

function cadena(s0, cts) {
  return s0 + "|" + cts.map(([a, b]) => `${s(a)},${s(b)}`).join(",");
}

function rango(minimo, maximo) {
  return Array.from({ length: maximo - minimo + 1 }, (_, i) => minimo + i);
}

function sumaEscalares(rs) {
  return rs.reduce((acc, r) => Fn.add(acc, r), 0n);
}

function cifrarRespuesta(y, s0, q, votos) {
  const rs = votos.map(() => aleatorio());
  const cts = votos.map((m, i) => [gpot(rs[i]), pot(y, rs[i]).add(gpot(BigInt(m)))]);
  const individuales = cts.map(([a, b], i) =>
    disyuncion(y, ramasValores(a, b, [0, 1]), votos[i], rs[i], `prove|${s0}|${s(a)},${s(b)}|`),
  );
  const sc = cadena(s0, cts);
  const valores = rango(q.minimo, q.maximo);
  const respuesta = {
    choices: cts.map(([a, b]) => ({ alpha: s(a), beta: s(b) })),
    individual_proofs: individuales.map((ps) => ps.map(pruebaJson)),
  };
  if (!q.blanco) {
    const [a, b] = productoCifrados(cts);
    const total = votos.reduce((x, v) => x + v, 0);
    const global = disyuncion(y, ramasValores(a, b, valores), total - q.minimo, sumaEscalares(rs), `prove|${sc}|${s(a)},${s(b)}|`);
    respuesta.overall_proof = global.map(pruebaJson);
  } else {
    const [a0, b0] = cts[0];
    const [aS, bS] = productoCifrados(cts.slice(1));
    const r0 = rs[0];
    const rS = sumaEscalares(rs.slice(1));
    const enBlanco = votos[0] === 1;
    const ramasG = [[a0, b0.subtract(G)], ...ramasValores(aS, bS, valores)];
    const marcadas = votos.slice(1).reduce((x, v) => x + v, 0);
    const verdadera = enBlanco ? 0 : marcadas - q.minimo + 1;
    const global = disyuncion(y, ramasG, verdadera, enBlanco ? r0 : rS, `bproof1|${sc}|`);
    const blanco = disyuncion(y, [[a0, b0], [aS, bS]], enBlanco ? 1 : 0, enBlanco ? rS : r0, `bproof0|${sc}|`);
    respuesta.overall_proof = global.map(pruebaJson);
    respuesta.blank_proof = blanco.map(pruebaJson);
  }
  return respuesta;
}

/**
 * The canonical JSON of a signed ballot, as shared.cripto.boleta.cifrar writes it.
 * @param {string} eleccionJson the exact text of election.json (φ is its hash)
 * @param {string} credencial the voter's private credential, XXXXX-XXXXXX-XXXXX-XXXXXX
 * @param {number[][]} votos one 0/1 vector per question (the blank flag first where blank is allowed)
 * @returns {string}
 */
export function cifrar(eleccionJson, credencial, votos) {
  const eleccion = leerEleccion(eleccionJson);
  if (!Array.isArray(votos) || votos.length !== eleccion.preguntas.length) {
    const n = Array.isArray(votos) ? votos.length : 0;
    throw new Error(`se esperaban ${eleccion.preguntas.length} respuestas, llegaron ${n}`);
  }
  eleccion.preguntas.forEach((q, i) => {
    if (!votoValido(q, votos[i])) {
      throw new Error(`pregunta ${i + 1}: ${JSON.stringify(votos[i])} no es una forma válida de votar`);
    }
  });
  const x = claveDeCredencial(eleccion.uuid, credencial);
  const c = s(gpot(x));
  const s0 = `${eleccion.huella}|${c}`;
  const sinFirma = {
    election_uuid: eleccion.uuid,
    election_hash: eleccion.huella,
    credential: c,
    answers: eleccion.preguntas.map((q, i) => cifrarRespuesta(eleccion.clavePublica, s0, q, votos[i])),
  };
  const h = sha256B64(cjson(sinFirma));
  const firma = schnorr(x, `sig|${h}|`);
  return cjson({ ...sinFirma, signature: { hash: h, proof: pruebaJson(firma) } });
}
