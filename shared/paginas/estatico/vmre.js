// Progressive enhancement of the citizen's pages: everything works without it (the server renders each
// form and its errors). No third party, no inline code (the page policy admits only this file).
"use strict";
(function () {
  function alCargar() {
    // After a refused form: focus the list of errors, so a screen reader reads it first.
    var errores = document.getElementById("errores");
    if (errores) { errores.focus(); }

    // A file too large or of the wrong type is refused here, before sending (the server checks again).
    document.querySelectorAll("input[type=file][data-max]").forEach(function (input) {
      input.addEventListener("change", function () {
        var max = parseInt(input.getAttribute("data-max"), 10);
        var tipos = (input.getAttribute("accept") || "").split(",");
        var aviso = document.getElementById(input.id + "-cliente");
        var mensaje = "";
        Array.prototype.forEach.call(input.files, function (f) {
          if (f.size > max) { mensaje = input.getAttribute("data-msg-tamano"); }
          else if (tipos[0] && tipos.indexOf(f.type) < 0) { mensaje = input.getAttribute("data-msg-tipo"); }
        });
        input.setCustomValidity(mensaje);
        if (aviso) { aviso.textContent = mensaje; }
      });
    });

    // Address hints for the chosen country (postal-code example, what the region is called).
    var pistas = document.getElementById("pistas-pais");
    var pais = document.getElementById("pais");
    if (pistas && pais) {
      var porPais = JSON.parse(pistas.textContent);
      var ayudas = { cp: document.getElementById("domicilio.codigo_postal-ayuda"),
                     region: document.getElementById("domicilio.region-ayuda") };
      var generales = {};
      Object.keys(ayudas).forEach(function (k) { if (ayudas[k]) { generales[k] = ayudas[k].textContent; } });
      var pintarPistas = function () {
        var p = porPais[pais.value] || {};
        Object.keys(ayudas).forEach(function (k) {
          if (ayudas[k]) { ayudas[k].textContent = p[k] || generales[k]; }
        });
      };
      pais.addEventListener("change", pintarPistas);
      pintarPistas();
    }

    // A countdown to a deadline (the return envelope's), in the person's own time zone.
    document.querySelectorAll("[data-hasta]").forEach(function (el) {
      var hasta = new Date(el.getAttribute("data-hasta"));
      var local = document.getElementById(el.id + "-local");
      if (local) {
        local.textContent = hasta.toLocaleString(document.documentElement.lang, {
          dateStyle: "full", timeStyle: "short" });
      }
      function pintar() {
        var ms = hasta - new Date();
        if (ms <= 0) { el.textContent = el.getAttribute("data-vencido"); return; }
        var d = Math.floor(ms / 86400000), h = Math.floor(ms / 3600000) % 24, m = Math.floor(ms / 60000) % 60;
        el.textContent = el.getAttribute("data-formato")
          .replace("{d}", d).replace("{h}", h).replace("{m}", m);
      }
      pintar();
      setInterval(pintar, 30000);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", alCargar); }
  else { alCargar(); }
})();
