// Bundles src/belenios.js into ../static/belenios.js: one minified IIFE exposing the global VMREBelenios.
import { build } from "esbuild";

await build({
  entryPoints: ["src/belenios.js"],
  outfile: "../static/belenios.js",
  bundle: true,
  format: "iife",
  globalName: "VMREBelenios",
  platform: "browser",
  target: "es2020",
  minify: true,
  legalComments: "eof",
  banner: {
    js: "/* VMRE cabina: Belenios 3.0 ballot encryption (@noble/curves, @noble/hashes). Generated from services/electronico/cabina: rebuild with `make cabina`. */",
  },
  logLevel: "info",
});
