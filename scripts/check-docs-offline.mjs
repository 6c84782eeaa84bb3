#!/usr/bin/env node
// Opens the generated API docs (docs/api, after `pnpm docs:api`) from file:// in headless Chromium
// (apps/bench/scripts/ensure-chromium.sh installs it) with the network blocked: the index, the
// module list, the hierarchy and the first page of each kind (class, interface, function, ...).
// Fails on any console error or warning, page error or failed request, or when the icons the
// pages use are not in the page. Usage: node scripts/check-docs-offline.mjs [dir]
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const root = resolve(import.meta.dirname, "..");
const dir = resolve(process.argv[2] ?? join(root, "docs", "api"));
// playwright-core is a devDependency of the bench, which drives Chromium for its browser tests.
const { chromium } = createRequire(join(root, "apps", "bench", "package.json"))("playwright-core");
const CHROMIUM = process.env.MMKIT_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(join(dir, "index.html"))) {
  console.error(`docs offline: ${join(dir, "index.html")} is missing (run pnpm docs:api first)`);
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`docs offline: ${CHROMIUM} is missing (run apps/bench/scripts/ensure-chromium.sh)`);
  process.exit(1);
}
const pages = ["index.html", "modules.html", "hierarchy.html"].filter((p) => existsSync(join(dir, p)));
for (const kind of readdirSync(dir).sort()) {
  if (kind === "assets" || kind === "media" || !/^[a-z]+$/.test(kind)) continue;
  const first = readdirSync(join(dir, kind)).filter((f) => f.endsWith(".html")).sort()[0];
  if (first !== undefined) pages.push(`${kind}/${first}`);
}
const profile = mkdtempSync(join(tmpdir(), "mmkit-docs-chromium-"));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const problems = [];
try {
  for (const path of pages) {
    const page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`${path}: page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${path}: console.${m.type()}: ${m.text().trim()}`);
    });
    page.on("requestfailed", (r) => problems.push(`${path}: request failed: ${r.url()} (${r.failure()?.errorText})`));
    await page.route("**/*", (route) => (route.request().url().startsWith("file:") ? route.continue() : route.abort("blockedbyclient")));
    await page.goto(pathToFileURL(join(dir, path)).href);
    await page.waitForLoadState("load");
    // Every icon a <use> names is in the page once icons.js has run.
    const missing = await page.waitForFunction(
      () => {
        const ids = [...document.querySelectorAll("use")].map((u) => u.getAttribute("href") ?? "");
        const absent = ids.filter((h) => !h.startsWith("#") || document.getElementById(h.slice(1)) === null);
        return absent.length === 0 ? [] : false;
      },
      undefined,
      { timeout: 10_000 },
    ).then(() => [], async () => page.evaluate(() => [...document.querySelectorAll("use")].map((u) => u.getAttribute("href") ?? "").filter((h) => !h.startsWith("#") || document.getElementById(h.slice(1)) === null).slice(0, 3)));
    for (const href of missing) problems.push(`${path}: icon ${href} is not in the page`);
    await page.close();
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (problems.length > 0) {
  for (const p of problems.slice(0, 20)) console.error(`docs offline: ${p}`);
  console.error(`docs offline: ${problems.length} problem(s) in ${pages.length} pages`);
  process.exit(1);
}
console.log(`docs offline: ${pages.length} pages open from file:// without errors (${pages.join(", ")})`);
