// The voting booth: login with the second factor, the ballot, confirmation, encryption on this device
// (VMREBelenios, from belenios.js), the receipt. Only the encrypted, signed ballot is sent.
//
// At /modulo the same booth runs on a consular site's kiosk: no login; the staff's turn code gives a session
// and the voter's credentials sealed to the site's key, which this kiosk holds and opens here (WebCrypto:
// ECDH P-256, HKDF-SHA256, AES-256-GCM; shared/cripto/sede.py seals). Nothing is typed but the code, and
// the opened credentials live only in this page's memory until the session ends.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const modulo = location.pathname === "/modulo";
  const secciones = ["modulo", "ingreso", "elecciones", "confirmacion", "acuse"];
  const CLAVE_SEDE = "vmre-modulo-clave";
  let sesion = modulo ? null : sessionStorage.getItem("vmre-sesion");
  let credencialesModulo = {}; // election uuid → opened credential (kiosk only)
  let pendiente = null; // [{eleccion, texto, vector, idempotencia, rastreador}], one per open office

  function mostrar(id) {
    for (const s of secciones) $(s).hidden = s !== id;
    const titulo = $(id).querySelector("h2");
    if (titulo) titulo.focus();
  }

  function avisar(texto) {
    $("aviso").textContent = texto || "";
  }

  async function pedir(metodo, ruta, cuerpo, extra) {
    const headers = Object.assign({}, extra || {});
    if (sesion) headers["Authorization"] = "Bearer " + sesion;
    let body;
    if (typeof cuerpo === "string") {
      body = cuerpo;
      headers["Content-Type"] = "application/json";
    } else if (cuerpo !== undefined) {
      body = JSON.stringify(cuerpo);
      headers["Content-Type"] = "application/json";
    }
    const r = await fetch(ruta, { method: metodo, headers, body });
    const datos = r.status === 204 ? null : await r.json().catch(() => null);
    if (!r.ok) {
      if (r.status === 401 && sesion && ruta !== "/v1/acceso") {
        terminarLocal();
      }
      throw new Error((datos && datos.detail) || "Error " + r.status);
    }
    return datos;
  }

  function terminarLocal() {
    sesion = null;
    credencialesModulo = {};
    pendiente = null;
    sessionStorage.removeItem("vmre-sesion");
    if (modulo) mostrarModulo().catch((e) => avisar(e.message));
    else mostrar("ingreso");
  }

  function valores(form) {
    return Object.fromEntries(new FormData(form).entries());
  }

  $("form-ingreso").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    avisar("");
    try {
      const r = await pedir("POST", "/v1/acceso", valores(ev.target));
      sesion = r.sesion;
      sessionStorage.setItem("vmre-sesion", sesion);
      ev.target.reset();
      await cargar();
    } catch (e) {
      avisar(e.message);
    }
  });

  $("pedir-sms").addEventListener("click", async () => {
    avisar("");
    try {
      const v = valores($("form-ingreso"));
      const r = await pedir("POST", "/v1/acceso/codigo", { usuario: v.usuario, password: v.password });
      avisar("Enviamos un código a su teléfono " + r.enviado_a + ".");
    } catch (e) {
      avisar(e.message);
    }
  });

  $("form-primer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    avisar("");
    try {
      const r = await pedir("POST", "/v1/acceso/primer", valores(ev.target));
      const qr = $("qr");
      qr.textContent = "";
      const p = document.createElement("p");
      if (r.segundo_factor === "totp") {
        p.textContent = "Escanee este código con su aplicación autenticadora y después ingrese con el código que muestre.";
        qr.appendChild(p);
        const img = document.createElement("img");
        img.alt = "Código QR para su aplicación autenticadora";
        img.src = "data:image/svg+xml;charset=utf-8," + encodeURIComponent(r.qr_svg);
        qr.appendChild(img);
        const manual = document.createElement("p");
        manual.append("Si no puede escanearlo, escriba esta clave en su aplicación: ");
        const clave = document.createElement("code");
        clave.id = "clave-totp";
        clave.textContent = new URL(r.totp_uri).searchParams.get("secret");
        manual.appendChild(clave);
        qr.appendChild(manual);
      } else {
        p.textContent = "Listo. Al ingresar recibirá un código por SMS en " + r.telefono + ".";
        qr.appendChild(p);
      }
      $("usuario").value = ev.target.usuario.value;
      ev.target.reset();
    } catch (e) {
      avisar(e.message);
    }
  });

  // A ballot already cast: its receipt, when it was recorded (Centro time), and the page to check it.
  function acuseGuardado(el) {
    const p = document.createElement("p");
    p.className = "acuse-guardado";
    p.append("Usted ya votó en esta elección. Su acuse: ");
    const code = document.createElement("code");
    code.textContent = el.rastreador;
    p.appendChild(code);
    if (el.emitida_at) {
      const cuando = new Date(el.emitida_at).toLocaleString("es-MX", {
        timeZone: "America/Mexico_City", dateStyle: "long", timeStyle: "short" });
      p.append(" (registrado el " + cuando + ", hora del Centro de México). ");
    } else {
      p.append(". ");
    }
    const a = document.createElement("a");
    a.href = el.verificar || "/verificar";
    a.textContent = "Verificar mi voto";
    p.appendChild(a);
    return p;
  }

  // Every office of the voter's entidad on one form: one choice per open ballot, one confirmation for all.
  let abiertas = [];

  async function cargar() {
    const v = await pedir("GET", "/v1/votante");
    const lista = $("lista");
    lista.textContent = "";
    abiertas = [];
    for (const el of v.elecciones) {
      const fs = document.createElement("fieldset");
      const lg = document.createElement("legend");
      lg.textContent = el.nombre;
      fs.appendChild(lg);
      if (el.simulacro) {
        const s = document.createElement("p");
        s.className = "simulacro";
        s.textContent = "SIMULACRO: este voto es de práctica y no cuenta.";
        fs.appendChild(s);
      }
      if (el.rastreador) {
        fs.appendChild(acuseGuardado(el));
      } else if (el.estado !== "abierta") {
        const p = document.createElement("p");
        p.textContent = el.estado === "sellada" ? "La votación terminó." : "La votación aún no abre.";
        fs.appendChild(p);
      } else {
        abiertas.push(el);
        el.opciones.forEach((o, i) => {
          const lab = document.createElement("label");
          const r = document.createElement("input");
          r.type = "radio";
          r.name = "opcion-" + el.uuid;
          r.value = String(i);
          lab.appendChild(r);
          lab.appendChild(document.createTextNode(" " + o.texto));
          lab.className = "opcion";
          fs.appendChild(lab);
        });
      }
      lista.appendChild(fs);
    }
    $("continuar").hidden = abiertas.length === 0;
    mostrar("elecciones");
  }

  $("form-boletas").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const datos = new FormData(ev.target);
    // One pending ballot per open office; the same choice again keeps its Idempotency-Key (a retry).
    const antes = new Map((pendiente || []).map((b) => [b.eleccion.uuid, b]));
    // A ballot left unmarked is not cast now (the voter may come back to it): said on the next screen.
    const marcadas = abiertas.filter((el) => datos.get("opcion-" + el.uuid) !== null);
    const sinMarcar = abiertas.filter((el) => datos.get("opcion-" + el.uuid) === null);
    if (!marcadas.length) {
      avisar("Marque una opción en al menos una boleta.");
      return;
    }
    pendiente = marcadas.map((el) => {
      const i = Number(datos.get("opcion-" + el.uuid));
      const previa = antes.get(el.uuid);
      const texto = el.opciones[i].texto;
      return {
        eleccion: el,
        texto,
        vector: el.opciones.map((_, j) => (j === i ? 1 : 0)),
        idempotencia: previa && previa.texto === texto ? previa.idempotencia : crypto.randomUUID(),
      };
    });
    const resumen = $("resumen");
    const campos = $("credenciales");
    resumen.textContent = "";
    campos.textContent = "";
    $("pide-credenciales").hidden = modulo;
    pendiente.forEach((b, n) => {
      const li = document.createElement("li");
      li.append(b.eleccion.nombre + ": ");
      const fuerte = document.createElement("strong");
      fuerte.textContent = b.texto;
      li.appendChild(fuerte);
      resumen.appendChild(li);
      if (modulo) return; // the kiosk holds the credentials: nothing to type
      const lab = document.createElement("label");
      lab.htmlFor = "credencial-" + n;
      lab.textContent = "Credencial de votación · " + b.eleccion.nombre;
      const inp = document.createElement("input");
      inp.id = "credencial-" + n;
      inp.autocomplete = "off";
      inp.spellcheck = false;
      inp.required = true;
      campos.append(lab, inp);
    });
    $("sin-marcar").textContent = sinMarcar.length
      ? "No marcó: " + sinMarcar.map((el) => el.nombre).join(", ") +
        ". Esa boleta no se emite ahora; puede volver a ella mientras la votación esté abierta."
      : "";
    avisar("");
    mostrar("confirmacion");
  });

  $("cambiar").addEventListener("click", () => mostrar("elecciones"));

  // A ballot just cast: its receipt and a button that looks for it on the public board.
  function acuseEmitido(b) {
    const li = document.createElement("li");
    li.append(b.eleccion.nombre + ": ");
    const code = document.createElement("code");
    code.className = "rastreador";
    code.textContent = b.rastreador;
    li.appendChild(code);
    const boton = document.createElement("button");
    boton.type = "button";
    boton.className = "secundario";
    boton.textContent = "Buscar este acuse en el tablón público";
    const estado = document.createElement("p");
    estado.setAttribute("aria-live", "polite");
    boton.addEventListener("click", async () => {
      try {
        const ruta = "/v1/elecciones/" + b.eleccion.uuid + "/tablon?rastreador=" + encodeURIComponent(b.rastreador);
        const t = await pedir("GET", ruta);
        estado.textContent = "Su boleta está en la urna (posición " + t.boletas[0].posicion + ").";
      } catch (e) {
        estado.textContent = e.message;
      }
    });
    li.append(boton, estado);
    return li;
  }

  $("form-confirmar").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    avisar("");
    const credenciales = pendiente.map((b, n) =>
      modulo ? credencialesModulo[b.eleccion.uuid] || "" : $("credencial-" + n).value.trim());
    if (modulo && credenciales.some((c) => !c)) {
      avisar("Este módulo no tiene la credencial de alguna de estas boletas: pida ayuda al personal de la sede.");
      return;
    }
    const mala = credenciales.findIndex((c) => !VMREBelenios.credencialValida(c));
    if (mala >= 0) {
      avisar("La credencial de " + pendiente[mala].eleccion.nombre +
        " no tiene el formato esperado (XXXXX-XXXXXX-XXXXX-XXXXXX).");
      $("credencial-" + mala).focus();
      return;
    }
    const boton = $("confirmar");
    boton.disabled = true;
    boton.textContent = "Cifrando y enviando…";
    const acuses = $("acuses");
    acuses.textContent = "";
    const fallas = [];
    // Each ballot encrypted here with its own credential and sent on its own: one refused (a mistyped
    // credential, say) never holds back the others, and the voter sees which ones were recorded.
    for (const [n, b] of pendiente.entries()) {
      try {
        const boleta = VMREBelenios.cifrar(b.eleccion.eleccion_json, credenciales[n], [b.vector]);
        const r = await pedir("POST", "/v1/elecciones/" + b.eleccion.uuid + "/boletas", boleta, {
          "Idempotency-Key": b.idempotencia,
        });
        b.rastreador = r.rastreador;
        acuses.appendChild(acuseEmitido(b));
      } catch (e) {
        fallas.push(b.eleccion.nombre + ": " + e.message);
      }
    }
    boton.disabled = false;
    boton.textContent = "Confirmar y emitir mi voto";
    if (fallas.length === pendiente.length) {
      avisar(fallas.join(" · "));
      return;
    }
    if (!modulo) pendiente.forEach((_, n) => ($("credencial-" + n).value = ""));
    pendiente = null;
    mostrar("acuse");
    if (fallas.length) avisar("No se emitió " + fallas.join(" · ") + ". Vuelva a sus boletas para emitirla.");
  });

  $("volver").addEventListener("click", () => cargar().catch((e) => avisar(e.message)));

  async function salir() {
    await pedir("DELETE", "/v1/acceso").catch(() => null);
    terminarLocal();
  }
  $("salir").addEventListener("click", salir);
  $("terminar").addEventListener("click", salir);

  // --- The kiosk of a consular site (/modulo) ---------------------------------------------------------------

  // The site's key lives in this browser's IndexedDB as a non-extractable CryptoKey: once imported from the
  // file, no script (not even this one) can read it back; it only derives. The file itself is not kept.
  let claveModulo = null; // {sede, llave: CryptoKey}
  const CURVA = { name: "ECDH", namedCurve: "P-256" };

  function almacen(modo, accion) {
    return new Promise((ok, mal) => {
      const abrir = indexedDB.open(CLAVE_SEDE, 1);
      abrir.onupgradeneeded = () => abrir.result.createObjectStore("clave");
      abrir.onerror = () => mal(abrir.error);
      abrir.onsuccess = () => {
        const peticion = accion(abrir.result.transaction("clave", modo).objectStore("clave"));
        peticion.onsuccess = () => ok(peticion.result);
        peticion.onerror = () => mal(peticion.error);
      };
    });
  }

  async function mostrarModulo() {
    claveModulo = claveModulo || (await almacen("readonly", (t) => t.get("sede")).catch(() => null)) || null;
    $("form-preparar").hidden = claveModulo !== null;
    $("form-turno").hidden = claveModulo === null;
    if (claveModulo) $("sede-modulo").textContent = "Módulo de la sede " + claveModulo.sede + ".";
    mostrar("modulo");
  }

  const bytes = (t) => new TextEncoder().encode(t);
  function deBase64url(t) {
    const b = atob(t.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (t.length % 4)) % 4));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
  }

  async function abrirSellada(privada, sellada, contexto) {
    const [version, cuerpo] = sellada.split(".");
    if (version !== "v1" || !cuerpo) throw new Error("sello desconocido");
    const datos = deBase64url(cuerpo);
    const punto = datos.slice(0, 65);
    const efimera = await crypto.subtle.importKey("raw", punto, CURVA, false, []);
    const compartido = await crypto.subtle.deriveBits({ name: "ECDH", public: efimera }, privada, 256);
    const hkdf = await crypto.subtle.importKey("raw", compartido, "HKDF", false, ["deriveKey"]);
    const aes = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: punto, info: bytes("VMRE credencial sellada para la sede v1") },
      hkdf, { name: "AES-GCM", length: 256 }, false, ["decrypt"]);
    const claro = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: datos.slice(65, 77), additionalData: bytes(contexto) }, aes, datos.slice(77));
    return new TextDecoder().decode(claro);
  }

  $("form-preparar").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    avisar("");
    try {
      const archivo = $("clave-sede").files[0];
      const clave = JSON.parse(await archivo.text());
      if (!clave || clave.kty !== "EC" || clave.crv !== "P-256" || !clave.d || !clave.sede) {
        throw new Error("el archivo no es la clave privada de una sede (vmre sede clave)");
      }
      const jwk = { kty: clave.kty, crv: clave.crv, x: clave.x, y: clave.y, d: clave.d };
      const llave = await crypto.subtle.importKey("jwk", jwk, CURVA, false, ["deriveBits"]);
      await almacen("readwrite", (t) => t.put({ sede: clave.sede, llave }, "sede"));
      claveModulo = null;
      ev.target.reset();
      await mostrarModulo();
    } catch (e) {
      avisar("No se pudo preparar el módulo: " + e.message);
    }
  });

  $("form-turno").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    avisar("");
    const clave = claveModulo;
    try {
      const r = await pedir("POST", "/v1/modulo/turno", { codigo: ev.target.codigo.value });
      sesion = r.sesion;
      ev.target.reset();
      if (r.sede !== clave.sede) {
        await salir();
        avisar("Este turno es de la sede " + r.sede + " y este módulo es de la sede " + clave.sede + ".");
        return;
      }
      for (const [uuid, sellada] of Object.entries(r.credenciales)) {
        credencialesModulo[uuid] = await abrirSellada(clave.llave, sellada, r.sede + "|" + uuid + "|" + r.numero);
      }
      await cargar();
    } catch (e) {
      const motivo = e instanceof DOMException
        ? "la clave de este módulo no abre las credenciales de esta persona: pida ayuda al personal de la sede"
        : e.message;
      if (sesion) await salir();
      avisar(motivo);
    }
  });

  if (modulo) {
    document.title = "Módulo de votación · VMRE";
    $("subtitulo").textContent = "Módulo de votación en la sede consular. Su voto se cifra en este equipo: " +
      "el servidor nunca ve su elección.";
    $("volver").hidden = true;
    mostrarModulo().catch((e) => avisar(e.message));
  } else if (sesion) {
    cargar().catch(() => mostrar("ingreso"));
  } else {
    mostrar("ingreso");
  }
})();
