// The live dashboard. It renders the read model's figures — first GET /v1/tablero, then every `cifras`
// Server-Sent Event of /v1/tablero/stream — in place: headline numbers, Chart.js charts (window.Chart, from
// graficas.js) updated with chart.update(), and the tables that carry the same numbers for screen readers.
// `?entidad=09` (or the selector) shows one entidad, the view each OPL uses.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const Chart = window.Chart;

  // Colours with at least 3:1 contrast on white (bars) and 4.5:1 where they are text.
  const COLOR = { solicitudes: "#0f5c4d", lnere: "#8a1538", horas: "#1f4e8c", paises: "#8a1538" };
  const RELLENO = "rgba(15, 92, 77, 0.15)";
  // Party colours; every result bar also gets a dark border, so light ones (PRD, MC) stay visible.
  const PARTIDOS = {
    PAN: "#0b4f9c",
    PRI: "#d2232a",
    PRD: "#ffcc00",
    PVEM: "#3f9c35",
    PT: "#c8102e",
    MC: "#f58025",
    MORENA: "#a50f2d",
    PES: "#5b2c83",
    RSP: "#8c6d1f",
    FXM: "#d63384",
  };
  const OTRO = "#6b7280";
  const CARGOS = {
    diputacion_migrante: "Diputación migrante",
    gubernatura: "Gubernatura",
    senaduria: "Senaduría",
    presidencia: "Presidencia de la República",
  };
  const OPCIONES_ESPECIALES = {
    nulos: "Votos nulos",
    no_registrados: "Candidaturas no registradas",
    candidaturas_no_registradas: "Candidaturas no registradas",
  };
  const MESES = ["ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"];

  const fmt = (n) =>
    n === null || n === undefined || n === "" || Number.isNaN(Number(n)) ? "—" : Number(n).toLocaleString("es-MX");
  const pct = (p) =>
    p === null || p === undefined || p === "" || Number.isNaN(Number(p))
      ? "—"
      : Number(p).toLocaleString("es-MX", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " %";

  function leerEntidad() {
    const e = new URLSearchParams(window.location.search).get("entidad");
    return e && /^\d{2}$/.test(e) ? e : null;
  }

  let entidad = leerEntidad();
  let fuente = null; // the EventSource of the current view
  let ultima = null; // the last figures shown
  let enVivo = null; // connection state, for the announcements

  // --- Charts ---------------------------------------------------------------------------------------------

  const reducido = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  Chart.defaults.font.family = window.getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 13;
  Chart.defaults.color = "#2b2b2b";
  Chart.defaults.borderColor = "#dcdcdc";
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.animation = reducido ? false : { duration: 350 };

  function ejeValores() {
    return { beginAtZero: true, ticks: { precision: 0, callback: (v) => fmt(v) } };
  }

  function barras(id, series, horizontal) {
    const valor = horizontal ? "x" : "y";
    return new Chart($(id), {
      type: "bar",
      data: {
        labels: [],
        datasets: series.map((s) => ({
          label: s.label,
          data: [],
          backgroundColor: s.color,
          borderColor: s.borde || s.color,
          borderWidth: s.borde ? 1 : 0,
          maxBarThickness: 28,
        })),
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        scales: { [valor]: ejeValores(), [horizontal ? "y" : "x"]: { grid: { display: false } } },
        plugins: {
          legend: { display: series.length > 1, position: "top", align: "start" },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.parsed[valor])}` } },
        },
      },
    });
  }

  const graficas = {
    entidades: barras(
      "grafica-entidades",
      [
        { label: "Solicitudes", color: COLOR.solicitudes },
        { label: "LNERE", color: COLOR.lnere },
      ],
      true,
    ),
    registro: new Chart($("grafica-registro"), {
      type: "line",
      data: {
        labels: [],
        datasets: [
          {
            label: "Solicitudes acumuladas",
            data: [],
            borderColor: COLOR.solicitudes,
            backgroundColor: RELLENO,
            fill: true,
            tension: 0.2,
            pointRadius: 2,
            borderWidth: 2,
          },
          {
            label: "Votos postales recibidos (acumulados)",
            data: [],
            borderColor: COLOR.lnere,
            borderDash: [6, 3],
            fill: false,
            tension: 0.2,
            pointRadius: 2,
            borderWidth: 2,
          },
        ],
      },
      options: {
        scales: { y: ejeValores(), x: { grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } } },
        plugins: {
          legend: { display: true, position: "bottom" },
          tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${fmt(c.parsed.y)}` } },
        },
      },
    }),
    horas: barras("grafica-horas", [{ label: "Votos por internet", color: COLOR.horas }], false),
    paises: barras("grafica-paises", [{ label: "Solicitudes", color: COLOR.paises }], true),
  };
  graficas.horas.options.scales.x.ticks = { maxRotation: 0, autoSkipPadding: 8 };

  function poner(grafica, etiquetas, series) {
    grafica.data.labels = etiquetas;
    series.forEach((datos, i) => {
      grafica.data.datasets[i].data = datos;
    });
    grafica.update();
  }

  // Shows the "no data yet" note instead of an empty chart.
  function vacio(canvasId, estaVacio) {
    const figura = $(canvasId).closest("figure");
    figura.querySelector(".lienzo").hidden = estaVacio;
    figura.querySelector(".vacio").hidden = !estaVacio;
  }

  // Horizontal bar charts grow with their rows, so every label stays readable on a phone.
  function alto(canvasId, filas, porFila) {
    $(canvasId).closest(".lienzo").style.height = Math.max(180, 70 + filas * porFila) + "px";
  }

  function describir(canvasId, texto) {
    $(canvasId).setAttribute("aria-label", texto + " Los mismos datos están en la tabla «Ver los datos en tabla».");
  }

  function llenar(tablaId, filas) {
    const cuerpo = $(tablaId).tBodies[0];
    const nuevo = document.createElement("tbody");
    for (const fila of filas) {
      const tr = document.createElement("tr");
      fila.forEach((valor, i) => {
        const celda = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) celda.scope = "row";
        celda.textContent = valor;
        tr.appendChild(celda);
      });
      nuevo.appendChild(tr);
    }
    cuerpo.replaceWith(nuevo);
  }

  // --- Dates: shown as the server wrote them (its own UTC offset), not shifted to this device's zone --------

  function dia(iso, conAnio) {
    const [a, m, d] = iso.slice(0, 10).split("-");
    return `${Number(d)} ${MESES[Number(m) - 1] || m}${conAnio ? " " + a : ""}`;
  }
  const hora = (iso) => iso.slice(11, 16);
  function desfase(iso) {
    const m = /([+-]\d{2}:\d{2}|Z)$/.exec(iso);
    if (!m) return "";
    return m[1] === "Z" ? "UTC" : "UTC" + m[1].replace("-", "−");
  }

  // --- Rendering ---------------------------------------------------------------------------------------------

  function texto(id, valor) {
    const el = $(id);
    if (el.textContent !== valor) el.textContent = valor;
  }

  function nombreEntidad(d, clave) {
    return (d.entidades && d.entidades[clave]) || clave;
  }

  function selector(d) {
    const sel = $("entidad");
    const claves = Object.keys(d.entidades || {}).sort();
    if (entidad && !claves.includes(entidad)) claves.push(entidad);
    const actuales = Array.from(sel.options)
      .slice(1)
      .map((o) => o.value);
    if (actuales.join() !== claves.join() || claves.some((c, i) => sel.options[i + 1].textContent !== nombreEntidad(d, c))) {
      sel.length = 1;
      for (const clave of claves) sel.add(new Option(nombreEntidad(d, clave), clave));
    }
    sel.value = entidad || "";
  }

  function cifras(d) {
    const s = d.solicitudes || {};
    const l = d.lnere || {};
    const p = d.paquetes || {};
    const v = d.votos || {};
    const mod = s.por_modalidad || {};
    texto("cifra-solicitudes", fmt(s.total));
    texto("detalle-solicitudes", `${fmt(mod.postal || 0)} por correo postal · ${fmt(mod.electronica || 0)} por internet`);
    texto("cifra-lnere", fmt(l.total));
    texto(
      "detalle-lnere",
      `${fmt(l.postal || 0)} postal · ${fmt(l.electronica || 0)} por internet` +
        (l.presencial ? ` · ${fmt(l.presencial)} en persona` : ""),
    );
    texto("cifra-paquetes-enviados", fmt(p.enviado));
    texto("detalle-paquetes", `de ${fmt(p.integrado || 0)} paquetes integrados`);
    texto("cifra-paquetes-entregados", fmt(p.entregado));
    texto("detalle-entregados", `${fmt(p.no_entregado || 0)} no entregados · ${fmt(p.devuelto || 0)} devueltos`);
    texto("cifra-votos-postal", fmt(v.postal));
    texto("cifra-votos-electronica", fmt(v.electronica));
    texto("cifra-participacion", pct(v.participacion));
    texto("detalle-participacion", `${fmt(v.total)} votos de ${fmt(l.total)} personas en la LNERE`);
  }

  function sedes(d) {
    // In-person voting (2024 on): each consular site, its voters on the list and the extra ballots handed.
    const inscritas = (d.lnere && d.lnere.por_sede) || {};
    const adicionales = (d.boletas_adicionales && d.boletas_adicionales.por_sede) || {};
    const votaron = (d.votos_sede && d.votos_sede.por_sede) || {};
    const claves = Array.from(new Set([...Object.keys(inscritas), ...Object.keys(adicionales)]));
    const nombres = d.sedes || {};
    claves.sort((a, b) => (nombres[a] || a).localeCompare(nombres[b] || b, "es"));
    $("sedes").hidden = claves.length === 0;
    llenar(
      "tabla-sedes",
      claves.map((c) => [
        nombres[c] || c,
        fmt(inscritas[c] || 0),
        fmt(votaron[c] || 0),
        inscritas[c] ? pct((100 * (votaron[c] || 0)) / inscritas[c]) : "—",
        fmt(adicionales[c] || 0),
      ]),
    );
  }

  function porEntidad(d) {
    const sol = (d.solicitudes && d.solicitudes.por_entidad) || {};
    const ln = (d.lnere && d.lnere.por_entidad) || {};
    const claves = Array.from(new Set([...Object.keys(sol), ...Object.keys(ln)]));
    claves.sort((a, b) => (sol[b] || 0) - (sol[a] || 0) || a.localeCompare(b));
    const nombres = claves.map((c) => nombreEntidad(d, c));
    alto("grafica-entidades", claves.length, 46);
    vacio("grafica-entidades", claves.length === 0);
    poner(graficas.entidades, nombres, [claves.map((c) => sol[c] || 0), claves.map((c) => ln[c] || 0)]);
    llenar(
      "tabla-entidades",
      claves.map((c, i) => [nombres[i], fmt(sol[c] || 0), fmt(ln[c] || 0)]),
    );
    describir(
      "grafica-entidades",
      claves.length
        ? `Gráfica de barras: solicitudes y lista nominal de ${claves.length} entidades. ` +
            `Más solicitudes: ${nombres[0]}, ${fmt(sol[claves[0]] || 0)}.`
        : "Gráfica de barras por entidad, todavía sin datos.",
    );
  }

  function registro(d) {
    // The registration curve and the return curve of postal votes, on the union of their days.
    const porDia = (lista) => new Map((lista || []).map((x) => [x.dia, Number(x.total) || 0]));
    const sol = porDia(d.solicitudes && d.solicitudes.por_dia);
    const reg = porDia(d.sobres && d.sobres.por_dia);
    const dias = [...new Set([...sol.keys(), ...reg.keys()])].sort().map((x) => ({ dia: x, total: sol.get(x) || 0 }));
    let suma = 0;
    let sumaSobres = 0;
    const acumulado = dias.map((x) => (suma += x.total));
    const regreso = dias.map((x) => (sumaSobres += reg.get(x.dia) || 0));
    vacio("grafica-registro", dias.length === 0);
    poner(graficas.registro, dias.map((x) => dia(x.dia, false)), [acumulado, regreso]);
    llenar(
      "tabla-registro",
      dias.map((x, i) => [dia(x.dia, true), fmt(x.total), fmt(acumulado[i]), fmt(regreso[i])]),
    );
    describir(
      "grafica-registro",
      dias.length
        ? `Gráfica de línea: solicitudes acumuladas del ${dia(dias[0].dia, true)} al ` +
            `${dia(dias[dias.length - 1].dia, true)}, hasta ${fmt(suma)}.`
        : "Gráfica de línea de solicitudes por día, todavía sin datos.",
    );
  }

  function horas(d) {
    const filas = ((d.votos && d.votos.electronica_por_hora) || []).slice().sort((a, b) => (a.hora < b.hora ? -1 : 1));
    const unDia = new Set(filas.map((x) => x.hora.slice(0, 10))).size <= 1;
    const zona = filas.length ? desfase(filas[0].hora) : "";
    vacio("grafica-horas", filas.length === 0);
    poner(
      graficas.horas,
      filas.map((x) => (unDia ? hora(x.hora) : `${dia(x.hora, false)} ${hora(x.hora)}`)),
      [filas.map((x) => Number(x.votos) || 0)],
    );
    $("tabla-horas").tHead.rows[0].cells[0].textContent = zona ? `Hora (${zona})` : "Hora";
    llenar(
      "tabla-horas",
      filas.map((x) => [`${dia(x.hora, true)}, ${hora(x.hora)}`, fmt(x.votos)]),
    );
    const dias = filas.length ? dia(filas[0].hora, true) : "";
    texto("pie-horas", `Votos emitidos por internet en cada hora${zona ? " (" + zona + ")" : ""}${unDia && dias ? ", " + dias : ""}.`);
    let pico = filas[0];
    for (const x of filas) if (Number(x.votos) > Number(pico.votos)) pico = x;
    describir(
      "grafica-horas",
      filas.length
        ? `Gráfica de barras: votos por internet en ${filas.length} horas; la hora con más votos fue ` +
            `${dia(pico.hora, true)} a las ${hora(pico.hora)}, con ${fmt(pico.votos)}.`
        : "Gráfica de barras de votos por internet por hora, todavía sin votos.",
    );
  }

  function paises(d) {
    const filas = (d.paises || []).slice().sort((a, b) => b.solicitudes - a.solicitudes);
    const total = filas.reduce((t, x) => t + (Number(x.solicitudes) || 0), 0);
    const nombres = filas.map((x) => x.nombre || x.pais);
    const porcentaje = (n) =>
      total ? (n / total).toLocaleString("es-MX", { style: "percent", maximumFractionDigits: 1 }) : "—";
    alto("grafica-paises", filas.length, 34);
    vacio("grafica-paises", filas.length === 0);
    poner(graficas.paises, nombres, [filas.map((x) => Number(x.solicitudes) || 0)]);
    llenar(
      "tabla-paises",
      filas.map((x, i) => [nombres[i], fmt(x.solicitudes), porcentaje(Number(x.solicitudes) || 0)]),
    );
    describir(
      "grafica-paises",
      filas.length
        ? `Gráfica de barras horizontales: solicitudes de ${filas.length} países. ` +
            `${nombres[0]} encabeza con ${fmt(filas[0].solicitudes)} (${porcentaje(Number(filas[0].solicitudes) || 0)}).`
        : "Gráfica de barras de solicitudes por país, todavía sin datos.",
    );
  }

  // One card per entidad and office, created on first sight and updated in place afterwards.
  const tarjetas = new Map();

  function tarjeta(clave) {
    const art = document.createElement("article");
    art.className = "grafica";
    const n = tarjetas.size + 1;
    art.setAttribute("aria-labelledby", `t-res-${n}`);
    art.innerHTML = `
      <h3 id="t-res-${n}"></h3>
      <p class="nota"></p>
      <figure>
        <div class="lienzo"><canvas role="img" id="grafica-res-${n}"></canvas></div>
        <p class="vacio" hidden>Sin votos computados todavía.</p>
        <details>
          <summary>Ver los datos en tabla</summary>
          <table id="tabla-res-${n}">
            <caption></caption>
            <thead><tr><th scope="col">Opción</th><th scope="col">Votos</th><th scope="col">Porcentaje</th></tr></thead>
            <tbody></tbody>
          </table>
        </details>
      </figure>`;
    $("lista-resultados").appendChild(art);
    const grafica = barras(
      `grafica-res-${n}`,
      [{ label: "Votos", color: OTRO, borde: "#1a1a1a" }],
      true,
    );
    const t = { art, grafica, canvasId: `grafica-res-${n}`, tablaId: `tabla-res-${n}` };
    tarjetas.set(clave, t);
    return t;
  }

  function resultados(d) {
    const lista = (d.resultados || []).slice().sort((a, b) => (a.entidad + a.cargo).localeCompare(b.entidad + b.cargo));
    const vistas = new Set();
    for (const r of lista) {
      const clave = `${r.entidad}|${r.cargo}`;
      vistas.add(clave);
      const t = tarjetas.get(clave) || tarjeta(clave);
      const titulo = `${nombreEntidad(d, r.entidad)} · ${CARGOS[r.cargo] || String(r.cargo).replace(/_/g, " ")}`;
      const votos = r.votos || {};
      t.art.querySelector("h3").textContent = titulo;
      t.art.querySelector(".nota").textContent =
        `Participación: ${pct(r.participacion)} · ${fmt(votos.total)} votos ` +
        `(${fmt(votos.postal || 0)} postales, ${fmt(votos.electronica || 0)} por internet).`;
      t.art.querySelector("caption").textContent = `Distribución por partido: ${titulo}`;
      const opciones = Object.entries(r.distribucion || {}).sort((a, b) => b[1] - a[1]);
      const suma = opciones.reduce((s, [, n]) => s + (Number(n) || 0), 0);
      const nombres = opciones.map(([k]) => OPCIONES_ESPECIALES[k] || k);
      const porcentaje = (n) =>
        suma ? (n / suma).toLocaleString("es-MX", { style: "percent", maximumFractionDigits: 2 }) : "—";
      t.grafica.data.datasets[0].backgroundColor = opciones.map(([k]) => PARTIDOS[k.toUpperCase()] || OTRO);
      alto(t.canvasId, opciones.length, 34);
      vacio(t.canvasId, opciones.length === 0);
      poner(t.grafica, nombres, [opciones.map(([, n]) => Number(n) || 0)]);
      llenar(
        t.tablaId,
        opciones.map(([, n], i) => [nombres[i], fmt(n), porcentaje(Number(n) || 0)]),
      );
      describir(
        t.canvasId,
        opciones.length
          ? `Gráfica de barras: distribución de votos por partido, ${titulo}. ` +
              `Primer lugar: ${nombres[0]} con ${fmt(opciones[0][1])} (${porcentaje(Number(opciones[0][1]) || 0)}).`
          : `Gráfica de barras de resultados, ${titulo}, sin votos todavía.`,
      );
    }
    for (const [clave, t] of tarjetas) {
      if (!vistas.has(clave)) {
        t.grafica.destroy();
        t.art.remove();
        tarjetas.delete(clave);
      }
    }
    $("sin-resultados").hidden = lista.length > 0;
  }

  function anunciar(mensaje) {
    const region = $("anuncio");
    // A new text node each time, so screen readers announce the same message twice if it recurs.
    region.textContent = "";
    window.setTimeout(() => {
      region.textContent = mensaje;
    }, 50);
  }

  function mostrar(d) {
    if ((d.entidad || null) !== entidad) return; // a late answer for the view the person left
    if (ultima && typeof d.version === "number" && typeof ultima.version === "number" && d.version < ultima.version) {
      return; // older than what is already on screen
    }
    const antes = ultima;
    ultima = d;
    const nombre = d.nombre || (entidad ? nombreEntidad(d, entidad) : "Todas las entidades");
    texto("vista", nombre);
    document.title = `${nombre} · Tablero en vivo · Voto de mexicanos en el extranjero`;
    selector(d);
    cifras(d);
    porEntidad(d);
    sedes(d);
    registro(d);
    horas(d);
    paises(d);
    resultados(d);
    if (d.actualizado_at) {
      const f = new Date(d.actualizado_at);
      if (!Number.isNaN(f.getTime())) {
        texto("actualizado", "Actualizado: " + f.toLocaleString("es-MX", { dateStyle: "medium", timeStyle: "short" }));
      }
    }
    const main = $("contenido");
    main.dataset.version = String(d.version ?? "");
    main.dataset.entidad = entidad || "";
    if (antes && antes.version !== d.version) {
      const s = d.solicitudes || {};
      const v = d.votos || {};
      anunciar(
        `Cifras actualizadas (${nombre}): ${fmt(s.total)} solicitudes, ` +
          `${fmt((d.lnere || {}).total)} en la lista nominal, ${fmt(v.total)} votos.`,
      );
    }
  }

  // --- Data: one GET for a quick first paint, then the live stream -------------------------------------------

  function estado(vivo) {
    const el = $("conexion");
    el.textContent = vivo ? "En vivo" : "Reconectando…";
    el.classList.toggle("vivo", vivo);
    if (enVivo === true && !vivo) anunciar("Se perdió la conexión; el tablero vuelve a intentarlo solo.");
    if (enVivo === false && vivo) anunciar("Conexión restablecida.");
    enVivo = vivo;
  }

  function conectar() {
    if (fuente) fuente.close();
    const consulta = entidad ? "?entidad=" + encodeURIComponent(entidad) : "";
    fuente = new EventSource("/v1/tablero/stream" + consulta);
    fuente.addEventListener("cifras", (e) => {
      estado(true);
      try {
        mostrar(JSON.parse(e.data));
      } catch (err) {
        console.error("tablero: evento cifras inválido", err);
      }
    });
    fuente.addEventListener("open", () => estado(true));
    fuente.addEventListener("error", () => estado(false));
    fetch("/v1/tablero" + consulta, { headers: { Accept: "application/json" } })
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error("HTTP " + r.status))))
      .then(mostrar)
      .catch((err) => console.warn("tablero: sin datos iniciales", err));
  }

  function cambiarEntidad(nueva) {
    if (nueva === entidad) return;
    entidad = nueva;
    const url = new URL(window.location.href);
    if (entidad) url.searchParams.set("entidad", entidad);
    else url.searchParams.delete("entidad");
    window.history.replaceState(null, "", url);
    ultima = null;
    const sel = $("entidad");
    anunciar("Mostrando " + (sel.selectedOptions[0] ? sel.selectedOptions[0].textContent : "la entidad elegida") + ".");
    conectar();
  }

  $("entidad").addEventListener("change", (e) => cambiarEntidad(e.target.value || null));
  $("filtro").addEventListener("submit", (e) => e.preventDefault());
  window.addEventListener("pagehide", () => fuente && fuente.close());
  conectar();
})();
