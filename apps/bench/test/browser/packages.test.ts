import { existsSync, readFileSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM, launchChromium, skipBrowserTests } from "./chromium.js";

// The library packages run outside Node: each built ESM dist (packages/<name>/dist/index.js) is
// loaded in Chromium through an import map (apps/bench/browser/readme-check.html), and its README
// example (packages/<name>/examples/readme.ts, transpiled here) prints what its `// =>` comments say,
// compared exactly as packages/physmem/test/readme.test.ts compares them in Node.

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const packagesDir = join(root, "packages");
const packages = readdirSync(packagesDir)
  .filter((name) => existsSync(join(packagesDir, name, "package.json")))
  .sort();
const examplePath = (name: string) => join(packagesDir, name, "examples", "readme.ts");
const pageFile = join(root, "apps", "bench", "browser", "readme-check.html");

/** `// => value` comments: what the example prints, in order (as the Node README tests read them). */
function expectedOutput(source: string): string[] {
  return [...source.matchAll(/\/\/ => (.*)$/gm)].map((m) => m[1]!.trim());
}
const normalise = (s: string) => s.replace(/\s+/g, "").replace(/"/g, "");

/** examples/readme.ts as the browser runs it: TypeScript removed, imports left to the import map. */
function transpile(name: string): string {
  const out = ts.transpileModule(readFileSync(examplePath(name), "utf8"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
    fileName: `${name}-readme.ts`,
    reportDiagnostics: true,
  });
  const errors = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  if (errors.length > 0) throw new Error(`transpiling packages/${name}/examples/readme.ts: ${errors.join("; ")}`);
  return out.outputText;
}

/**
 * A static server on 127.0.0.1 over the repository, serving only the check page and its script,
 * the packages' dist folders, and the transpiled examples at /examples/<name>.js.
 */
function serve(examples: Map<string, string>): Promise<Server> {
  const types: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".map": "application/json" };
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://127.0.0.1").pathname);
    const send = (status: number, body: string | Buffer, type = "text/plain; charset=utf-8") => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (path === "/favicon.ico") return send(204, ""); // asked for by the browser itself
    const example = /^\/examples\/([a-z0-9-]+)\.js$/.exec(path);
    if (example !== null) {
      const code = examples.get(example[1]!);
      return code === undefined ? send(404, "no such example") : send(200, code, types[".js"]);
    }
    if (!/^\/(apps\/bench\/browser|packages\/[a-z0-9-]+\/dist)\/[\w.-]+$/.test(path)) return send(404, "not served");
    const file = normalize(join(root, path));
    if (!file.startsWith(root) || file.includes(`${sep}..`) || !existsSync(file)) return send(404, "not found");
    send(200, readFileSync(file), types[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream");
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe.skipIf(skipBrowserTests)("library packages in Chromium", () => {
  let server: Server;
  let base: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  beforeAll(async () => {
    const examples = new Map(packages.filter((n) => existsSync(examplePath(n))).map((n) => [n, transpile(n)] as const));
    server = await serve(examples);
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  test("the page's import map names every library package's built dist, and nothing else", () => {
    const map = JSON.parse(/<script type="importmap">([\s\S]*?)<\/script>/.exec(readFileSync(pageFile, "utf8"))![1]!) as { imports: Record<string, string> };
    const expected = Object.fromEntries(packages.map((n) => [JSON.parse(readFileSync(join(packagesDir, n, "package.json"), "utf8")).name as string, `/packages/${n}/dist/index.js`]));
    expect(Object.fromEntries(Object.entries(map.imports).sort())).toEqual(Object.fromEntries(Object.entries(expected).sort()));
  });

  test("every library package has a README example to run", () => {
    expect(packages.filter((n) => !existsSync(examplePath(n)))).toEqual([]);
    expect(packages.length).toBeGreaterThanOrEqual(7);
  });

  for (const name of packages) {
    test(`@mmkit/${name}: dist loads in the browser and the README example prints what its comments say`, async () => {
      const dist = join(packagesDir, name, "dist", "index.js");
      if (!existsSync(dist)) throw new Error(`${dist} is missing: build it first (pnpm --filter @mmkit/${name} build)`);
      const page = await browser.context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
      page.on("console", (m) => {
        if (m.type() === "error" || m.type() === "warning") problems.push(`console.${m.type()}: ${m.text()}`);
      });
      page.on("request", (r) => requests.push(r.url()));
      page.on("response", (r) => {
        if (r.status() >= 400) problems.push(`${r.status()} for ${r.url()}`);
      });
      try {
        await page.goto(`${base}/apps/bench/browser/readme-check.html?package=${name}`);
        await page.waitForFunction(() => (window as unknown as { readmeResult?: unknown }).readmeResult !== undefined, undefined, { timeout: 20_000 });
        const result = await page.evaluate(() => (window as unknown as { readmeResult: { printed: string[]; error?: string } }).readmeResult);
        expect(result.error).toBeUndefined();
        expect(problems).toEqual([]);
        const expected = expectedOutput(readFileSync(examplePath(name), "utf8"));
        expect(expected.length).toBeGreaterThan(0);
        expect(result.printed.map(normalise)).toEqual(expected.map(normalise));
        // Only this server was asked for anything: the dist files import nothing but each other.
        for (const url of requests) expect(url.startsWith(`${base}/`)).toBe(true);
        expect(requests).toContain(`${base}/packages/${name}/dist/index.js`);
      } finally {
        await page.close();
      }
    });
  }
});

test.runIf(skipBrowserTests)(`browser tests skipped: ${CHROMIUM} is missing (run apps/bench/scripts/ensure-chromium.sh)`, () => {
  expect(process.env.CI === undefined || process.env.CI === "" || process.env.CI === "false" || process.env.CI === "0").toBe(true);
});
