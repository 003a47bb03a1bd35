// The voting booth: login with the second factor, the ballot, confirmation, encryption on this device
// (VMREBelenios, from belenios.js), the receipt. Only the encrypted, signed ballot is sent.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const secciones = ["ingreso", "elecciones", "confirmacion", "acuse"];
  let sesion = sessionStorage.getItem("vmre-sesion");
  let pendiente = null; // {eleccion, clave, texto, vector, idempotencia}

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
        sesion = null;
        sessionStorage.removeItem("vmre-sesion");
        mostrar("ingreso");
      }
      throw new Error((datos && datos.detail) || "Error " + r.status);
    }
    return datos;
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

  async function cargar() {
    const v = await pedir("GET", "/v1/votante");
    const lista = $("lista");
    lista.textContent = "";
    for (const el of v.elecciones) {
      const form = document.createElement("form");
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
        el.opciones.forEach((o, i) => {
          const lab = document.createElement("label");
          const r = document.createElement("input");
          r.type = "radio";
          r.name = "opcion";
          r.value = String(i);
          r.required = true;
          lab.appendChild(r);
          lab.appendChild(document.createTextNode(" " + o.texto));
          lab.className = "opcion";
          fs.appendChild(lab);
        });
        const b = document.createElement("button");
        b.type = "submit";
        b.textContent = "Continuar";
        fs.appendChild(b);
        form.addEventListener("submit", (ev) => {
          ev.preventDefault();
          const i = Number(new FormData(form).get("opcion"));
          pendiente = {
            eleccion: el,
            texto: el.opciones[i].texto,
            vector: el.opciones.map((_, j) => (j === i ? 1 : 0)),
            idempotencia: crypto.randomUUID(),
          };
          $("eleccion-texto").textContent = pendiente.texto;
          avisar("");
          mostrar("confirmacion");
        });
      }
      form.appendChild(fs);
      lista.appendChild(form);
    }
    mostrar("elecciones");
  }

  $("cambiar").addEventListener("click", () => {
    pendiente = null;
    mostrar("elecciones");
  });

  $("form-confirmar").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    avisar("");
    const credencial = $("credencial").value.trim();
    if (!VMREBelenios.credencialValida(credencial)) {
      avisar("La credencial no tiene el formato esperado (XXXXX-XXXXXX-XXXXX-XXXXXX).");
      return;
    }
    const boton = $("confirmar");
    boton.disabled = true;
    boton.textContent = "Cifrando y enviando…";
    try {
      const el = pendiente.eleccion;
      const boleta = VMREBelenios.cifrar(el.eleccion_json, credencial, [pendiente.vector]);
      const r = await pedir("POST", "/v1/elecciones/" + el.uuid + "/boletas", boleta, {
        "Idempotency-Key": pendiente.idempotencia,
      });
      $("rastreador").textContent = r.rastreador;
      $("en-tablon").textContent = "";
      $("credencial").value = "";
      pendiente = { eleccion: el, rastreador: r.rastreador };
      mostrar("acuse");
    } catch (e) {
      avisar(e.message);
    } finally {
      boton.disabled = false;
      boton.textContent = "Confirmar y emitir mi voto";
    }
  });

  $("verificar").addEventListener("click", async () => {
    try {
      const ruta = "/v1/elecciones/" + pendiente.eleccion.uuid + "/tablon?rastreador=" +
        encodeURIComponent(pendiente.rastreador);
      const t = await pedir("GET", ruta);
      $("en-tablon").textContent = "Su boleta está en la urna (posición " + t.boletas[0].posicion + ").";
    } catch (e) {
      $("en-tablon").textContent = e.message;
    }
  });

  $("volver").addEventListener("click", () => cargar().catch((e) => avisar(e.message)));

  $("salir").addEventListener("click", async () => {
    await pedir("DELETE", "/v1/acceso").catch(() => null);
    sesion = null;
    sessionStorage.removeItem("vmre-sesion");
    mostrar("ingreso");
  });

  if (sesion) cargar().catch(() => mostrar("ingreso"));
})();
