import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, test } from "vitest";
import {
  SnapshotError,
  buddyinfoFreePages,
  checkSamePlatform,
  checkSnapshot,
  formatWarning,
  loadSnapshot,
  parseBuddyinfo,
  parseMeminfo,
  parsePagetypeinfo,
  parseVmstat,
  parseZoneinfo,
  type KernelSnapshot,
  type SnapshotWarning,
} from "../../src/trace/snapshot/index.js";
import { fixture } from "./helpers.js";

const DIR = fixture("linux-6.1-small");
const read = (name: string): string => readFileSync(`${DIR}/${name}`, "utf8");

/** Expects a SnapshotError with `code`, naming `file` and `line`, whose message contains `text`. */
function expectSnapshotError(fn: () => unknown, code: string, file: string, line: number, text: string): void {
  let error: unknown;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${code}`).toBeInstanceOf(SnapshotError);
  const e = error as SnapshotError;
  expect(e.code).toBe(code);
  expect(e.file).toBe(file);
  expect(e.line).toBe(line);
  expect(e.message).toContain(text);
  expect(e.message.startsWith(line > 0 ? `${file} line ${line}: ` : `${file}: `)).toBe(true);
}

/** The fixture's before-snapshot, with one file's text replaced. */
function fixtureSnapshot(replace: Partial<Record<"buddyinfo" | "pagetypeinfo" | "zoneinfo" | "vmstat" | "meminfo", string>> = {}): KernelSnapshot {
  const text = (name: "buddyinfo" | "pagetypeinfo" | "zoneinfo" | "vmstat" | "meminfo"): string => replace[name] ?? read(`${name}-before.txt`);
  return {
    buddyinfo: parseBuddyinfo(text("buddyinfo"), "buddyinfo-before.txt"),
    pagetypeinfo: parsePagetypeinfo(text("pagetypeinfo"), "pagetypeinfo-before.txt"),
    zoneinfo: parseZoneinfo(text("zoneinfo"), "zoneinfo-before.txt"),
    vmstat: parseVmstat(text("vmstat"), "vmstat-before.txt"),
    meminfo: parseMeminfo(text("meminfo"), "meminfo-before.txt"),
  };
}

describe("snapshot parsers on the Linux 6.1 fixture", () => {
  test("buddyinfo", () => {
    const b = parseBuddyinfo(read("buddyinfo-before.txt"), "buddyinfo-before.txt");
    expect(b.zones.map((z) => [z.node, z.zone, z.line])).toEqual([
      [0, "DMA", 1],
      [0, "DMA32", 2],
    ]);
    expect(b.zones[1]!.freeBlocks).toEqual([3, 1, 3, 1, 1, 1, 0, 0, 0, 2, 219]);
    expect(buddyinfoFreePages(b.zones[1]!)).toBe(225353);
  });

  test("pagetypeinfo", () => {
    const p = parsePagetypeinfo(read("pagetypeinfo-before.txt"), "pagetypeinfo-before.txt");
    expect(p.pageblockOrder).toBe(9);
    expect(p.orders).toBe(11);
    const dma32 = p.zones[1]!;
    expect(dma32.freeBlocks.get("Reclaimable")).toEqual([1, 0, 1, 0, 1, 1, 0, 0, 0, 1, 0]);
    expect(dma32.freeLines.get("Reclaimable")).toBe(12);
    expect([...dma32.pageblocks]).toEqual([
      ["Unmovable", 57],
      ["Movable", 441],
      ["Reclaimable", 6],
      ["HighAtomic", 0],
      ["Isolate", 0],
    ]);
    expect(dma32.pageblockLine).toBe(18);
    expect(p.warnings).toEqual([]);
  });

  test("zoneinfo", () => {
    const z = parseZoneinfo(read("zoneinfo-before.txt"), "zoneinfo-before.txt");
    expect(z.zones.map((x) => [x.zone, x.line, x.present])).toEqual([
      ["DMA", 1, 3998],
      ["DMA32", 86, 258010],
      ["Normal", 127, 0],
      ["Movable", 138, 0],
      ["Device", 149, 0],
    ]);
    const dma32 = z.zones[1]!;
    expect([dma32.free, dma32.min, dma32.low, dma32.high, dma32.spanned, dma32.managed, dma32.startPfn]).toEqual([225353, 11086, 13857, 16628, 258010, 241524, 4096]);
    expect(dma32.pagesets).toEqual([
      { cpu: 0, count: 531, high: 6928, batch: 63 },
      { cpu: 1, count: 339, high: 6928, batch: 63 },
    ]);
    expect(dma32.stats.get("nr_free_pages")).toBe(225353);
    expect(z.zones[2]!.startPfn).toBe(-1);
  });

  test("vmstat and meminfo", () => {
    const v = parseVmstat(read("vmstat-after.txt"), "vmstat-after.txt");
    expect([v.values.get("nr_free_pages"), v.values.get("pgalloc_dma32"), v.values.get("pgfree")]).toEqual([224803, 34481, 264479]);
    const m = parseMeminfo(read("meminfo-before.txt"), "meminfo-before.txt");
    expect([m.values.get("MemTotal"), m.values.get("MemFree"), m.values.get("HugePages_Total")]).toEqual([981456, 916644, 0]);
  });

  test("the fixture's snapshots agree: zones, page size, folded counts, one warning-free check", () => {
    const c = checkSnapshot(fixtureSnapshot());
    expect(c.pageSize).toBe(4096);
    expect(c.zones.map((z) => z.name)).toEqual(["DMA", "DMA32"]);
    expect(c.zones[1]!.pageblocksByType).toEqual([57, 441, 6]);
    expect(c.zones[1]!.freeByType[1]).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 219]);
    expect(c.warnings).toEqual([]);
    const warnings: SnapshotWarning[] = [];
    const after = checkSnapshot(loadSnapshot(DIR, "after", warnings));
    expect(warnings).toEqual([]);
    checkSamePlatform(c, after);
    expect(after.zones[1]!.zoneinfo.free).toBe(220995);
  });
});

describe("bad snapshots: an error or a warning naming file and line, never a silent start", () => {
  test("lines that do not parse", () => {
    expectSnapshotError(() => parseBuddyinfo("Node 0, zone DMA 1 2 x\n", "b"), "ERR_SNAPSHOT_MALFORMED", "b", 1, 'order-2 count is "x", not a count');
    expectSnapshotError(() => parseBuddyinfo("Node 0, zone DMA 1 2 3\nNode 0, zone DMA32 1 2\n", "b"), "ERR_SNAPSHOT_MALFORMED", "b", 2, "2 orders, but line 1 has 3 (cut line?)");
    expectSnapshotError(() => parseBuddyinfo("DMA 1 2 3\n", "b"), "ERR_SNAPSHOT_FORMAT", "b", 1, "not a /proc/buddyinfo line");
    expectSnapshotError(() => parseBuddyinfo("\n", "b"), "ERR_SNAPSHOT_FORMAT", "b", 0, "no zone lines");
    const zi = read("zoneinfo-before.txt").replace("managed  241524", "managed  24x524");
    expectSnapshotError(() => parseZoneinfo(zi, "z"), "ERR_SNAPSHOT_MALFORMED", "z", 94, 'managed is "24x524", not a count');
    expectSnapshotError(() => parseZoneinfo("  pages free 3\n", "z"), "ERR_SNAPSHOT_FORMAT", "z", 1, "before the first");
    expectSnapshotError(() => parseVmstat("nr_free_pages 1\npgfree two\n", "v"), "ERR_SNAPSHOT_MALFORMED", "v", 2, 'not a "name value" line');
    expectSnapshotError(() => parseVmstat("nr_free_pages 1\nnr_free_pages 2\npgfree 1\n", "v"), "ERR_SNAPSHOT_MALFORMED", "v", 2, "appears twice (lines 1 and 2)");
    expectSnapshotError(() => parseMeminfo("MemTotal: 5 kB\n", "m"), "ERR_SNAPSHOT_FORMAT", "m", 0, "no MemFree: line");
    const pt = read("pagetypeinfo-before.txt").replace("type      Movable      0      0      0      0      0      0      0      0      0      1      3", "type      Movable      0      0      0");
    expectSnapshotError(() => parsePagetypeinfo(pt, "p"), "ERR_SNAPSHOT_MALFORMED", "p", 6, "3 counts, the header names 11 orders");
  });

  test("another kernel version's format", () => {
    // Before 3.8 zoneinfo had no "managed" line.
    const old = read("zoneinfo-before.txt").replace(/\n\s+managed\s+\d+/g, "");
    expectSnapshotError(() => parseZoneinfo(old, "zoneinfo-before.txt"), "ERR_SNAPSHOT_FORMAT", "zoneinfo-before.txt", 1, 'zone DMA of node 0 has no "managed" line (a kernel before 3.8');
    // A pagetypeinfo without the pageblock header.
    const noHeader = read("pagetypeinfo-before.txt").split("\n").slice(3).join("\n");
    expectSnapshotError(() => parsePagetypeinfo(noHeader, "pt"), "ERR_SNAPSHOT_FORMAT", "pt", 0, 'no "Page block order:" line');
    // A migratetype this reader has never heard of.
    const unknown = read("pagetypeinfo-before.txt").replace("type  Reclaimable      1", "type      Special      1");
    expectSnapshotError(() => checkSnapshot(fixtureSnapshot({ pagetypeinfo: unknown })), "ERR_SNAPSHOT_FORMAT", "pagetypeinfo-before.txt", 12, 'unknown migratetype "Special"');
    // Kernels before 4.4 printed Reserve; read by name and folded into Movable, with a warning.
    const reserve = read("pagetypeinfo-before.txt").replace("HighAtomic      0      0", "Reserve      0      0").replace(/HighAtomic/g, "Reserve").replace("Node    0, zone    DMA32, type      Reserve      0      0      0      0      0      0      0      0      0      0      0", "Node    0, zone    DMA32, type      Reserve      0      0      0      0      0      0      0      0      0      0      0");
    const folded = checkSnapshot(fixtureSnapshot({ pagetypeinfo: reserve.replace("DMA32           57          441            6            0", "DMA32           57          440            6            1") }));
    expect(folded.zones[1]!.pageblocksByType).toEqual([57, 441, 6]);
    expect(folded.warnings.map(formatWarning)).toEqual(["pagetypeinfo-before.txt line 18: zone DMA32: 1 pageblocks of type Reserve, which the model does not have, counted as Movable"]);
  });

  test("snapshots that disagree with each other", () => {
    // More free pages than the zone manages.
    const tooFree = read("buddyinfo-before.txt").replace("2    219", "2    999");
    expectSnapshotError(() => checkSnapshot(fixtureSnapshot({ buddyinfo: tooFree })), "ERR_SNAPSHOT_MISMATCH", "buddyinfo-before.txt", 2, "zone DMA32 has 1024073 free pages but zoneinfo-before.txt line 86 says it manages 241524");
    // A zone buddyinfo has and zoneinfo does not.
    const extra = `${read("buddyinfo-before.txt")}Node 1, zone   Normal      0      0      0      0      0      0      0      0      0      0      1\n`;
    expectSnapshotError(() => checkSnapshot(fixtureSnapshot({ buddyinfo: extra })), "ERR_SNAPSHOT_MISMATCH", "buddyinfo-before.txt", 3, "zone Normal of node 1 is not in zoneinfo-before.txt");
    // A zone pagetypeinfo has and buddyinfo does not.
    const onlyDma = read("buddyinfo-before.txt").split("\n")[0]! + "\n";
    const zi = read("zoneinfo-before.txt").replace(/managed  241524/, "managed  0");
    expectSnapshotError(() => checkSnapshot(fixtureSnapshot({ buddyinfo: onlyDma, zoneinfo: zi })), "ERR_SNAPSHOT_MISMATCH", "pagetypeinfo-before.txt", 18, "zone DMA32 of node 0 is not in buddyinfo-before.txt");
    // More pageblocks than the zone spans.
    const blocks = read("pagetypeinfo-before.txt").replace("DMA32           57          441", "DMA32           57          541");
    expectSnapshotError(() => checkSnapshot(fixtureSnapshot({ pagetypeinfo: blocks })), "ERR_SNAPSHOT_MISMATCH", "pagetypeinfo-before.txt", 18, "zone DMA32 has 604 pageblocks here but spans only 504");
    // Counts read at another moment: warnings, with both places named.
    const drift = checkSnapshot(fixtureSnapshot({ buddyinfo: read("buddyinfo-before.txt").replace("DMA32      3", "DMA32      4") }));
    expect(drift.warnings.map(formatWarning)).toEqual([
      "buddyinfo-before.txt line 2: zone DMA32: 225354 free pages here, 225353 in zoneinfo-before.txt line 86 (read at another moment?)",
      "pagetypeinfo-before.txt line 10: zone DMA32 order 0: 3 free blocks over the types here, 4 in buddyinfo-before.txt line 2 (read at another moment?); the layout follows this file",
    ]);
    // An after-snapshot of another machine.
    const before = checkSnapshot(fixtureSnapshot());
    const other = checkSnapshot(fixtureSnapshot({ zoneinfo: read("zoneinfo-before.txt").replace("spanned  258010", "spanned  258011") }));
    expectSnapshotError(() => checkSamePlatform(before, other), "ERR_SNAPSHOT_MISMATCH", "zoneinfo-before.txt", 86, "not the same machine");
  });

  test("a count the kernel capped (>N) is filled in from buddyinfo, with a warning", () => {
    const capped = read("pagetypeinfo-before.txt").replace("0      0      0      0      0      0    219", "0      0      0      0      0      0   >100");
    const c = checkSnapshot(fixtureSnapshot({ pagetypeinfo: capped }));
    expect(c.zones[1]!.freeByType[1]![10]).toBe(219);
    expect(c.warnings.map(formatWarning)).toEqual([
      "pagetypeinfo-before.txt line 11: Movable order 10 printed as >100: the kernel stopped counting that list; read as at least 100 (buddyinfo fills it in when it can)",
      "pagetypeinfo-before.txt line 11: zone DMA32 Movable order 10: 219 blocks, from buddyinfo-before.txt line 2 (219) minus the other types",
    ]);
  });

  test("zones of several nodes are labelled with their node", () => {
    const node1 = (text: string): string => text.replace(/Node (\s*)0, zone(\s+)DMA32/g, "Node $11, zone$2DMA32");
    const c = checkSnapshot(fixtureSnapshot({ buddyinfo: node1(read("buddyinfo-before.txt")), pagetypeinfo: node1(read("pagetypeinfo-before.txt")), zoneinfo: node1(read("zoneinfo-before.txt")) }));
    expect(c.zones.map((z) => [z.node, z.name, z.label])).toEqual([
      [0, "DMA", "node0 DMA"],
      [1, "DMA32", "node1 DMA32"],
    ]);
  });

  test("a missing snapshot file is named", () => {
    const traces = dirname(DIR);
    expectSnapshotError(() => loadSnapshot(traces, "before", []), "ERR_SNAPSHOT_MISSING", join(traces, "buddyinfo-before.txt"), 0, "no buddyinfo snapshot \"before\"");
  });
});
