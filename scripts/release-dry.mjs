#!/usr/bin/env node
// What the next release would publish, without touching the working tree: copies the workspace
// (tracked and untracked, not ignored, files plus each package's built dist/) to a temporary
// directory, runs `changeset version` and `pnpm pack` there, prints each package's next version and
// the files in its tarball, checks every tarball, and deletes the copy. Build first (the root
// `release:dry` script does).
//
// A tarball passes when it holds package.json, README.md, LICENSE, CHANGELOG.md and dist/, and its
// README.md opens with its `npm install` line, and its package.json has `repository` (with
// `directory`), `homepage` and `bugs`, and no dependency of any
// kind on a private workspace package (.pnpmfile.cjs drops those devDependencies when packing).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";

const root = resolve(import.meta.dirname, "..");
const REQUIRED_FILES = ["package.json", "README.md", "LICENSE", "CHANGELOG.md"];

function readJson(file) {
  return JSON.parse(readFileSync(file, "utf8"));
}

function workspacePackages(base) {
  const found = [];
  for (const group of ["apps", "packages", "tools"]) {
    const groupDir = join(base, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir).sort()) {
      const manifest = join(groupDir, entry, "package.json");
      if (existsSync(manifest)) found.push({ dir: join(groupDir, entry), rel: `${group}/${entry}`, pkg: readJson(manifest) });
    }
  }
  return found;
}

/** Checks one packed manifest and file list; returns what is wrong with it. */
function problemsOf(name, manifest, files, privateNames) {
  const problems = [];
  for (const file of REQUIRED_FILES) if (!files.includes(file)) problems.push(`has no ${file}`);
  if (!files.some((f) => f.startsWith("dist/"))) problems.push("has no dist/ (was it built?)");
  if (typeof manifest.repository?.url !== "string" || typeof manifest.repository?.directory !== "string") {
    problems.push("package.json has no repository { url, directory }");
  }
  if (typeof manifest.homepage !== "string") problems.push("package.json has no homepage");
  if (typeof manifest.bugs?.url !== "string") problems.push("package.json has no bugs.url");
  for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]) {
    for (const dep of Object.keys(manifest[field] ?? {})) {
      if (privateNames.has(dep)) problems.push(`package.json ${field} names the private workspace package ${dep}`);
    }
  }
  return problems.map((p) => `${name}: ${p}`);
}

const copy = mkdtempSync(join(tmpdir(), "mmkit-release-dry-"));
let failed = false;
try {
  const listed = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root })
    .toString()
    .split("\0")
    .filter((f) => f !== "" && existsSync(join(root, f)));
  for (const file of listed) {
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(root, file), join(copy, file));
  }
  const published = workspacePackages(root).filter((p) => p.rel.startsWith("packages/") && p.pkg.private !== true);
  for (const { dir, rel } of published) {
    if (existsSync(join(dir, "dist"))) cpSync(join(dir, "dist"), join(copy, rel, "dist"), { recursive: true });
  }
  // changeset resolves its changelog generator from node_modules; the copy borrows the real one.
  symlinkSync(join(root, "node_modules"), join(copy, "node_modules"), "dir");
  const privateNames = new Set(workspacePackages(root).filter((p) => p.pkg.private === true).map((p) => p.pkg.name));
  // pnpm pack resolves `workspace:` ranges through each package's node_modules: link every
  // workspace package there to its copy, so the ranges become the copy's (bumped) versions.
  const inCopy = new Map(workspacePackages(copy).map((p) => [p.pkg.name, p.dir]));
  for (const { rel, pkg } of published) {
    for (const field of ["dependencies", "devDependencies", "peerDependencies", "optionalDependencies"]) {
      for (const [dep, range] of Object.entries(pkg[field] ?? {})) {
        if (!String(range).startsWith("workspace:") || !inCopy.has(dep)) continue;
        const link = join(copy, rel, "node_modules", dep);
        if (existsSync(link)) continue;
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(inCopy.get(dep), link, "dir");
      }
    }
  }

  execFileSync(join(root, "node_modules", ".bin", "changeset"), ["version"], { cwd: copy, stdio: ["ignore", "ignore", "inherit"] });
  const out = join(copy, ".release");
  mkdirSync(out);
  const problems = [];
  for (const { rel, pkg } of published) {
    const next = readJson(join(copy, rel, "package.json")).version;
    const packed = execFileSync("pnpm", ["pack", "--json", "--pack-destination", out], { cwd: join(copy, rel), stdio: ["ignore", "pipe", "inherit"] }).toString();
    const tarball = JSON.parse(packed.slice(packed.indexOf("{"))).filename;
    const files = execFileSync("tar", ["tzf", tarball]).toString().trim().split("\n").map((f) => f.replace(/^package\//, "")).sort();
    const manifest = JSON.parse(execFileSync("tar", ["xzOf", tarball, "package/package.json"]).toString());
    const readmeTop = execFileSync("tar", ["xzOf", tarball, "package/README.md"]).toString().split("\n").slice(0, 8).join("\n");
    if (!readmeTop.includes(`npm install ${pkg.name}`)) problems.push(`${pkg.name}: README.md has no \`npm install ${pkg.name}\` line at its top`);
    const change = next === pkg.version ? `${pkg.version} (unchanged)` : `${pkg.version} -> ${next}`;
    console.log(`${pkg.name} ${change}: ${files.length} files in ${tarball.split("/").pop()}`);
    for (const f of files) console.log(`  ${f}`);
    problems.push(...problemsOf(pkg.name, manifest, files, privateNames));
  }
  if (problems.length > 0) {
    for (const p of problems) console.error(`release:dry: ${p}`);
    failed = true;
  }
} catch (error) {
  // A failed command has already printed its own message on stderr; no stack trace on top.
  console.error(`release:dry: ${error.message.split("\n")[0]}`);
  failed = true;
} finally {
  rmSync(copy, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
