import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { launchChromium, skipBrowserTests } from "./chromium.js";

// The shared buddy and the shared POTAD in a browser: a page served with cross-origin isolation (COOP
// same-origin, COEP require-corp) creates one SharedBuddy (or SharedPotad, over one 4 MiB space of
// 4 KiB granules, through its fronts' page face), and two module workers attach to it, each on its own CPU,
// allocating and freeing at random with half their frees handed to the other worker through a
// ring in shared memory; every page handed out is claimed in a shared owner array with
// compareExchange, so a page handed out twice is counted. The page then checks the allocator.
// Served without the headers, the same page has no SharedArrayBuffer and gets a typed error.

const root = fileURLToPath(new URL("../../../../", import.meta.url));
const dist = (name: string) => join(root, "packages", name, "dist", "index.js");

// Workers do not see a page's import map: the buddy's dist is served with its one bare import
// pointed at physmem's dist.
const MODULES: Record<string, () => string> = {
  "/m/physmem.js": () => readFileSync(dist("physmem"), "utf8"),
  "/m/buddy.js": () => readFileSync(dist("buddy"), "utf8").replaceAll('from "@mmkit/physmem"', 'from "/m/physmem.js"'),
  "/m/potad.js": () => readFileSync(dist("potad"), "utf8").replaceAll('from "@mmkit/physmem"', 'from "/m/physmem.js"'),
};

/** What differs between the two shared allocators in the page and the workers. */
interface Allocator {
  /** The page's import of the class and its creation, as `shared`. */
  create: string;
  /** The page's expression for "every page is back". */
  allBack: string;
  /** The worker's import and its page face `cpu` (allocPages, freePages, drain). */
  workerImport: string;
  workerFace: string;
}

const ALLOCATORS: Record<"buddy" | "potad", Allocator> = {
  buddy: {
    create: `const { SharedBuddy } = await import("/m/buddy.js");
  const shared = SharedBuddy.create(MemoryMap.uniform(4 << 20), { cpus: 2, maxOrder: 6, pageblockOrder: 4, pcpBatch: 7, pcpHigh: 31, minFreeKbytes: 0 });`,
    allBack: "shared.freePageCount() === 1024 && shared.perCpuPageCount() === 0",
    workerImport: `import { SharedBuddy } from "/m/buddy.js";`,
    workerFace: "const cpu = SharedBuddy.attach(handle).claimCpu(index);",
  },
  potad: {
    create: `const { SharedPotad } = await import("/m/potad.js");
  const shared = SharedPotad.create({ spaces: [{ base: 0, size: 4 << 20, granule: 4096 }], cpus: 2, frontHigh: 31, frontBatch: 7 });`,
    allBack: "shared.stats(0).freeBytes === 4 << 20 && shared.stats(0).cachedBlocks === 0 && shared.stats(0).freeBlocks === 1",
    workerImport: `import { SharedPotad } from "/m/potad.js";`,
    workerFace: "const front = SharedPotad.attach(handle).claimCpu(index); const cpu = Object.assign(front.pageFace(0), { drain: () => front.drain() });",
  },
};

const page = (a: Allocator): string => `<!doctype html><meta charset="utf-8"><title>shared allocator, two workers</title>
<script type="module">
const result = {};
try {
  result.isolated = self.crossOriginIsolated;
  const { MemoryMap, canBlock, FutexMutex, LOCK_INTS } = await import("/m/physmem.js");
  // A page's main thread may not block in Atomics.wait: the mutex spins there, or waits with waitAsync.
  result.mainCanBlock = canBlock();
  if (self.crossOriginIsolated) {
    const m = new FutexMutex(new Int32Array(new SharedArrayBuffer(LOCK_INTS * 4)), 1);
    await m.lockAsync();
    m.unlock();
    result.mutexBlocking = m.blocking;
  }
  ${a.create}
  const pages = 1024;
  const owners = new Int32Array(new SharedArrayBuffer(pages * 4));
  const rings = [0, 1].map(() => new Int32Array(new SharedArrayBuffer((16 + 2 * 256) * 4)));
  const done = new Int32Array(new SharedArrayBuffer(16));
  const reports = await Promise.all([0, 1].map((index) => new Promise((resolve, reject) => {
    const worker = new Worker("/worker.js", { type: "module" });
    worker.onmessage = (e) => resolve(e.data);
    worker.onerror = (e) => reject(new Error("worker " + index + ": " + e.message));
    worker.postMessage({ handle: shared.handle, index, owners, rings, done, ops: 20000 });
  })));
  for (const k of ["allocs", "frees", "sent", "received", "doubles", "failures"]) result[k] = reports.reduce((t, r) => t + r[k], 0);
  result.errors = reports.map((r) => r.error).filter((e) => e !== undefined);
  shared.check();
  result.check = "ok";
  result.allBack = ${a.allBack};
  result.owned = owners.reduce((t, v) => t + (v !== 0 ? 1 : 0), 0);
  result.counters = shared.counters();
  result.lock = shared.lockStats();
} catch (e) {
  result.error = String(e && e.message);
  result.code = e && e.code;
}
window.result = result;
</script>`;

const worker = (a: Allocator): string => `${a.workerImport}
onmessage = ({ data }) => {
  const report = { allocs: 0, frees: 0, sent: 0, received: 0, doubles: 0, failures: 0 };
  try {
    const { handle, index, owners, rings, done, ops } = data;
    ${a.workerFace}
    const me = index + 1, base = 0, cap = 256;
    const inRing = rings[index], outRing = rings[1 - index];
    let x = 2463534242 + index;
    const rand = (n) => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return (x >>> 0) % n; };
    const live = [];
    // Start together (the second worker starts later): done[2] counts the workers ready.
    Atomics.add(done, 2, 1);
    while (Atomics.load(done, 2) < 2) Atomics.wait(done, 2, 1, 50);
    const free = (pfn, order) => {
      for (let p = pfn; p < pfn + (1 << order); p++) Atomics.store(owners, p - base, 0);
      cpu.freePages(pfn, order);
      report.frees++;
    };
    const drainIn = () => {
      for (let head = inRing[0]; head !== Atomics.load(inRing, 1); head++) {
        const at = 16 + 2 * (head % cap);
        const pfn = inRing[at], order = inRing[at + 1];
        Atomics.store(inRing, 0, head + 1);
        report.received++;
        free(pfn, order);
      }
    };
    for (let i = 0; i < ops; i++) {
      drainIn();
      if (rand(100) < (live.length < 60 ? 60 : 35) || live.length === 0) {
        const order = rand(8) === 0 ? rand(7) : 0;
        const pfn = cpu.allocPages(order);
        if (pfn < 0) { report.failures++; continue; }
        report.allocs++;
        for (let p = pfn; p < pfn + (1 << order); p++) if (Atomics.compareExchange(owners, p - base, 0, me) !== 0) report.doubles++;
        live.push([pfn, order]);
      } else {
        const k = rand(live.length);
        const [pfn, order] = live[k];
        live[k] = live[live.length - 1];
        live.pop();
        const tail = outRing[1];
        if ((i & 1) === 0 && tail - Atomics.load(outRing, 0) < cap) {
          const at = 16 + 2 * (tail % cap);
          outRing[at] = pfn;
          outRing[at + 1] = order;
          // In flight: owned by the ring (3) until the receiver frees it.
          for (let p = pfn; p < pfn + (1 << order); p++) Atomics.store(owners, p - base, 3);
          Atomics.store(outRing, 1, tail + 1);
          report.sent++;
        } else free(pfn, order);
      }
    }
    for (const [pfn, order] of live) free(pfn, order);
    Atomics.store(done, index, 1);
    while (Atomics.load(done, 1 - index) === 0) drainIn();
    drainIn();
    cpu.drain();
  } catch (e) {
    report.error = String(e && e.message);
  }
  postMessage(report);
};
`;

function serve(isolated: boolean, a: Allocator): Promise<Server> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
    const headers: Record<string, string> = { "cache-control": "no-store" };
    if (isolated) {
      headers["cross-origin-opener-policy"] = "same-origin";
      headers["cross-origin-embedder-policy"] = "require-corp";
    }
    const body = path === "/" ? page(a) : path === "/worker.js" ? worker(a) : MODULES[path]?.();
    if (body === undefined) {
      res.writeHead(path === "/favicon.ico" ? 204 : 404, headers);
      return res.end();
    }
    res.writeHead(200, { ...headers, "content-type": path === "/" ? "text/html; charset=utf-8" : "text/javascript; charset=utf-8" });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

describe.skipIf(skipBrowserTests)("SharedBuddy and SharedPotad in Chromium with cross-origin isolation", () => {
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  const servers: Server[] = [];
  beforeAll(async () => {
    for (const name of ["physmem", "buddy", "potad"]) if (!existsSync(dist(name))) throw new Error(`${dist(name)} is missing: build it first (pnpm --filter @mmkit/${name} build)`);
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
  });

  async function run(isolated: boolean, a: Allocator = ALLOCATORS.buddy): Promise<Record<string, unknown>> {
    const server = await serve(isolated, a);
    servers.push(server);
    const page = await browser.context.newPage();
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    try {
      await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await page.waitForFunction(() => (window as unknown as { result?: unknown }).result !== undefined, undefined, { timeout: 60_000 });
      expect(problems).toEqual([]);
      return await page.evaluate(() => (window as unknown as { result: Record<string, unknown> }).result);
    } finally {
      await page.close();
    }
  }

  test.each(["buddy", "potad"] as const)("two workers over one shared %s: nothing lost or handed out twice, every page back, check() passes", async (kind) => {
    const r = await run(true, ALLOCATORS[kind]);
    expect(r.error).toBeUndefined();
    expect(r.isolated).toBe(true);
    expect(r.mainCanBlock).toBe(false);
    expect(r.mutexBlocking).toBe(false);
    expect(r.errors).toEqual([]);
    expect(r.doubles).toBe(0);
    expect(r.check).toBe("ok");
    expect(r.allBack).toBe(true);
    expect(r.owned).toBe(0);
    expect(r.received).toBe(r.sent);
    expect(r.frees).toBe(r.allocs);
    // More than two rings' worth: frees crossed workers and the rings wrapped (how many depends on scheduling).
    expect(r.sent as number).toBeGreaterThan(512);
    expect((r.counters as { allocs: number }).allocs).toBe(r.allocs);
    expect((r.lock as { acquisitions: number }).acquisitions).toBeGreaterThan(0);
  }, 120_000);

  test("without COOP/COEP there is no SharedArrayBuffer: a typed error that says why", async () => {
    const r = await run(false);
    expect(r.isolated).toBe(false);
    expect(r.code).toBe("ERR_INVALID_STATE");
    expect(r.error).toContain("cross-origin isolation");
  }, 60_000);
});
