#!/usr/bin/env node
// Size budgets per entry point, measured the way a user's bundler sees the packages: for every
// published package under packages/*, esbuild bundles (minified, ESM, browser) a one-line program
// that imports ONE export from the built entry point, for every runtime export, and the whole
// entry point once. Each figure is checked against the package's size-budget.json:
//
//   { "default": 24000, "all": 40000, "exports": { "MiB": 1000 } }
//
//   default  bytes any single export may pull in (minified)
//   all      bytes `import * as pkg` may pull in
//   exports  tighter (or looser) budgets for named exports
//
// On top of the file, one rule holds everywhere: an export that is not a function or class
// (a constant, an enum-like object) must bundle under 1 KB. A package with no size-budget.json,
// or a budget naming an export that no longer exists, fails. Usage:
//
//   node scripts/check-bundle-sizes.mjs            check every package (build first)
//   node scripts/check-bundle-sizes.mjs --print    print every figure, even the passing ones
//   node scripts/check-bundle-sizes.mjs buddy      only packages/buddy
import { build } from "esbuild";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const CONSTANT_BUDGET = 1000;
const root = resolve(import.meta.dirname, "..");
const args = process.argv.slice(2);
const print = args.includes("--print");
const only = args.filter((a) => !a.startsWith("--"));

/** Minified ESM bytes of a program that uses `names` of the module at `entry` (or all of it). */
async function bundledBytes(entry, names) {
  const spec = JSON.stringify(pathToFileURL(entry).pathname);
  const contents =
    names === "*"
      ? `import * as pkg from ${spec}; console.log(pkg);`
      : `import { ${names.join(", ")} } from ${spec}; console.log(${names.join(", ")});`;
  const result = await build({
    stdin: { contents, resolveDir: root, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "error",
  });
  return result.outputFiles[0].contents.byteLength;
}

function esmEntry(dir, pkg) {
  const dot = pkg.exports?.["."];
  const rel = typeof dot === "string" ? dot : (dot?.import?.default ?? dot?.import ?? dot?.default ?? pkg.module);
  if (typeof rel !== "string") throw new Error(`${pkg.name}: no ESM entry point in exports["."]`);
  return join(dir, rel);
}

const failures = [];
const rows = [];
const packagesDir = join(root, "packages");
for (const name of readdirSync(packagesDir).sort()) {
  const dir = join(packagesDir, name);
  if (!existsSync(join(dir, "package.json"))) continue;
  if (only.length > 0 && !only.includes(name)) continue;
  const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  if (pkg.private) continue;
  const budgetFile = join(dir, "size-budget.json");
  if (!existsSync(budgetFile)) {
    failures.push(`${pkg.name}: no size-budget.json (every published package carries one; see CONTRIBUTING.md)`);
    continue;
  }
  const budget = JSON.parse(readFileSync(budgetFile, "utf8"));
  const entry = esmEntry(dir, pkg);
  if (!existsSync(entry)) {
    failures.push(`${pkg.name}: ${entry} is missing (run pnpm build first)`);
    continue;
  }
  const mod = await import(pathToFileURL(entry).href);
  const exported = Object.keys(mod).sort();
  for (const named of Object.keys(budget.exports ?? {})) {
    if (!exported.includes(named)) failures.push(`${pkg.name}: size-budget.json names "${named}", which is not exported`);
  }
  const all = await bundledBytes(entry, "*");
  rows.push([pkg.name, "* (whole entry)", all, budget.all]);
  if (all > budget.all) failures.push(`${pkg.name}: the whole entry point bundles to ${all} B, over its budget of ${budget.all} B`);
  for (const named of exported) {
    const bytes = await bundledBytes(entry, [named]);
    const isCode = typeof mod[named] === "function";
    const limit = Math.min(budget.exports?.[named] ?? budget.default, isCode ? Infinity : CONSTANT_BUDGET);
    rows.push([pkg.name, named, bytes, limit]);
    if (bytes > limit) {
      failures.push(`${pkg.name}: import { ${named} } bundles to ${bytes} B, over its budget of ${limit} B`);
    }
  }
}

if (print) {
  const w = Math.max(...rows.map((r) => r[0].length + r[1].length + 1));
  for (const [p, n, b, l] of rows) console.log(`${`${p} ${n}`.padEnd(w)}  ${String(b).padStart(6)} B  (budget ${l} B)`);
}
if (failures.length > 0) {
  for (const f of failures) console.error(`size budget: ${f}`);
  process.exit(1);
}
console.log(`size budgets: ${rows.length} entry points within budget`);
