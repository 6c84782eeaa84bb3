#!/usr/bin/env node
// Makes the generated API docs (docs/api) open from file:// without errors. typedoc's pages draw
// their icons with <use href="assets/icons.svg#icon-…">, which a browser refuses to load from a
// file:// page (each is a console error; typedoc's icons.js repairs them only after the fact).
// Every page also loads assets/icons.js, which puts the same sprite into the page, so the hrefs are
// rewritten to point into the page: "#icon-…". Idempotent. Usage: node scripts/docs-offline.mjs [dir]
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const dir = resolve(process.argv[2] ?? join(import.meta.dirname, "..", "docs", "api"));
const EXTERNAL_ICON = /(<use href=")(?:\.\.\/)*assets\/icons\.svg(#icon-)/g;
let pages = 0;
let rewritten = 0;
function visit(path) {
  for (const entry of readdirSync(path)) {
    const file = join(path, entry);
    if (statSync(file).isDirectory()) visit(file);
    else if (entry.endsWith(".html")) {
      const html = readFileSync(file, "utf8");
      const fixed = html.replace(EXTERNAL_ICON, (_, use, icon) => (rewritten++, `${use}${icon}`));
      pages++;
      if (fixed !== html) writeFileSync(file, fixed);
    }
  }
}
visit(dir);
console.log(`docs-offline: ${rewritten} icon references in ${pages} pages now point into the page`);
