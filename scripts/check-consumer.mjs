#!/usr/bin/env node
// The packages as a new user meets them: packs every published packages/* (build first), installs
// the tarballs with npm (offline: they depend only on each other) into a fresh project in a
// temporary directory, and there
//   - imports each package from ESM and requires it from CommonJS (the same export names);
//   - type-checks every README example (examples/*.ts) with strict, noUncheckedIndexedAccess and
//     exactOptionalPropertyTypes, under module node16 and under moduleResolution bundler;
//   - runs every README example (transpiled) with node, and bundles it for a browser with esbuild.
// The temporary project is deleted afterwards. Usage: node scripts/check-consumer.mjs
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildSync } from "esbuild";
import ts from "typescript";

const root = resolve(import.meta.dirname, "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const published = readdirSync(join(root, "packages"))
  .sort()
  .map((dir) => ({ dir: join(root, "packages", dir), pkg: JSON.parse(readFileSync(join(root, "packages", dir, "package.json"), "utf8")) }))
  .filter(({ pkg }) => pkg.private !== true);
const project = mkdtempSync(join(tmpdir(), "mmkit-consumer-"));
const problems = [];
const run = (cmd, args, cwd = project) => execFileSync(cmd, args, { cwd, stdio: ["ignore", "pipe", "pipe"] }).toString();
/** Runs `fn`; a failure becomes a problem named `what` (the command's own stderr, no stack). */
function step(what, fn) {
  try {
    fn();
  } catch (e) {
    const detail = `${e.stdout ?? ""}${e.stderr ?? ""}`.trim() || e.message;
    problems.push(`${what}: ${detail.split("\n").slice(0, 12).join("\n  ")}`);
  }
}
try {
  const tarballs = join(project, "tarballs");
  mkdirSync(tarballs);
  for (const { dir, pkg } of published) {
    if (!existsSync(join(dir, "dist"))) throw new Error(`${pkg.name} is not built (run pnpm build first)`);
    run("pnpm", ["pack", "--pack-destination", tarballs], dir);
  }
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
  run("npm", ["install", "--offline", "--no-audit", "--no-fund", ...readdirSync(tarballs).map((t) => join(tarballs, t))]);

  // ESM and CommonJS give the same names.
  for (const { pkg } of published) {
    step(`${pkg.name} from ESM and CommonJS`, () => {
      const esm = run("node", ["--input-type=module", "-e", `import * as m from ${JSON.stringify(pkg.name)}; console.log(Object.keys(m).sort().join(","))`]).trim();
      const cjs = run("node", ["--input-type=commonjs", "-e", `console.log(Object.keys(require(${JSON.stringify(pkg.name)})).sort().join(","))`]).trim();
      if (esm === "" || esm !== cjs) throw new Error(`ESM exports ${esm} but CommonJS exports ${cjs}`);
    });
    step(`${pkg.name} installed with LICENSE and CHANGELOG.md`, () => {
      for (const file of ["LICENSE", "CHANGELOG.md", "README.md"]) if (!existsSync(join(project, "node_modules", pkg.name, file))) throw new Error(`no ${file}`);
    });
  }

  // The README examples, as a strict TypeScript user's code, then run, then bundled for a browser.
  const examples = join(project, "src");
  mkdirSync(examples);
  for (const { dir, pkg } of published) {
    const example = join(dir, "examples", "readme.ts");
    if (existsSync(example)) cpSync(example, join(examples, `${pkg.name.split("/")[1]}.ts`));
  }
  const strict = { strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, target: "ES2022", lib: ["ES2022", "DOM"], types: [], noEmit: true, skipLibCheck: false };
  for (const [name, options] of [
    ["node16", { module: "node16", moduleResolution: "node16" }],
    ["bundler", { module: "ESNext", moduleResolution: "bundler" }],
  ]) {
    writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify({ compilerOptions: { ...strict, ...options }, include: ["src"] }, null, 2));
    step(`README examples type-check (strict, ${name} resolution)`, () => run("node", [tsc, "-p", `tsconfig.${name}.json`]));
  }
  for (const file of readdirSync(examples).filter((f) => f.endsWith(".ts"))) {
    const source = readFileSync(join(examples, file), "utf8");
    const js = join(examples, file.replace(/\.ts$/, ".mjs"));
    writeFileSync(js, ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText);
    step(`README example ${file} runs from the installed package`, () => run("node", [js]));
    step(`README example ${file} bundles for a browser`, () => {
      // The bundle must resolve with no Node built-ins.
      buildSync({ entryPoints: [js], bundle: true, write: false, format: "esm", platform: "browser", absWorkingDir: project, logLevel: "silent" });
    });
  }
} catch (e) {
  problems.push(`${e.message}`);
} finally {
  rmSync(project, { recursive: true, force: true });
}
if (problems.length > 0) {
  for (const p of problems) console.error(`consumer: ${p}`);
  process.exit(1);
}
console.log(`consumer: ${published.length} packages install from their tarballs with npm and work from ESM and CommonJS; their README examples type-check strictly (node16, bundler), run, and bundle for a browser`);
