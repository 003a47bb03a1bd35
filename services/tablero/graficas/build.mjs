// Bundles src/graficas.js (Chart.js) into ../static/graficas.js: one minified IIFE that sets window.Chart.
import { build } from "esbuild";

await build({
  entryPoints: ["src/graficas.js"],
  outfile: "../static/graficas.js",
  bundle: true,
  format: "iife",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "eof",
  banner: {
    js: "/* VMRE tablero: Chart.js 4.5.1 (MIT) para las gráficas del tablero público. Generado desde services/tablero/graficas; reconstruir: make graficas */",
  },
  logLevel: "info",
});
