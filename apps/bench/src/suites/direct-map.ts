import { probingArena } from "../harness/probe-order.js";
import { DirectMap, GiB, MemoryMap, MetadataArena, ProbingArena, formatBytes } from "@mmkit/physmem";
import { flatUpdateFloor } from "../floors/index.js";
import type { Contender, Suite, SuiteContext } from "../harness/types.js";
import { randomIndices } from "../workloads/random.js";

/** The two direct maps compared: the kernel's default (splits stay), and one that folds tables back. */
const SYSTEMS = [
  { name: "DirectMap", collapse: false },
  { name: "DirectMap (collapse)", collapse: true },
] as const;

/** Changes the deterministic pass makes: pages of a 4 GiB machine, drawn from the run's seed. */
function sizes(quick: boolean): { machine: number; changes: number; probed: number } {
  return quick ? { machine: 4 * GiB, changes: 1024, probed: 256 } : { machine: 4 * GiB, changes: 4096, probed: 1024 };
}

/** set_memory_ro on every page of `pfns`, then back to default: splits, DirectMap counters, table bytes. */
function countSplits(ctx: SuiteContext, map: MemoryMap, pfns: Int32Array, workload: string): void {
  for (const { name, collapse } of SYSTEMS) {
    const arena = new MetadataArena();
    const dm = new DirectMap(map, { arena, collapse });
    let splits = 0;
    for (let i = 0; i < pfns.length; i++) splits += dm.setReadOnly(pfns[i]!);
    const ro = dm.counters();
    for (let i = 0; i < pfns.length; i++) dm.setDefault(pfns[i]!);
    const back = dm.counters();
    dm.check();
    const rec = (metric: string, value: number, unit: string, note?: string) => ctx.record({ system: name, workload, metric, value, unit, ...(note === undefined ? {} : { note }) });
    rec("2M splits", ro.level2Splits, "count", "vmstat level2_splits");
    rec("1G splits", ro.level3Splits, "count", "vmstat level3_splits");
    rec("splits/change", splits / pfns.length, "count");
    rec("DirectMap4k (ro)", ro.directMap4k, "bytes", "all pages read-only");
    rec("DirectMap2M (ro)", ro.directMap2M, "bytes");
    rec("DirectMap1G (ro)", ro.directMap1G, "bytes");
    rec("page tables (ro)", ro.pageTableBytes, "bytes", `${formatBytes(ro.pageTableBytes / pfns.length)}/change`);
    rec("DirectMap4k (rw)", back.directMap4k, "bytes", "all restored");
    rec("page tables (rw)", back.pageTableBytes, "bytes", collapse ? `${back.collapses2M} 2M + ${back.collapses1G} 1G collapses` : "splits stay");
    if (!collapse) ctx.log(`${pfns.length} random pages of ${formatBytes(map.presentBytes)} hit ${ro.level2Splits} distinct 2 MiB regions: one 2M split each; the 1 GiB leaves split ${ro.level3Splits} times`);
  }
}

/** Cache lines each change touches in the page tables, from a ProbingArena: splitting changes, the rest, restores. */
function countLines(ctx: SuiteContext, map: MemoryMap, pfns: Int32Array, probed: number, workload: string): void {
  for (const { name, collapse } of SYSTEMS) {
    const probe = probingArena();
    const dm = new DirectMap(map, { arena: probe, collapse });
    let splitting = 0;
    let splittingLines = 0;
    let plain = 0;
    let plainLines = 0;
    let restoreLines = 0;
    let most = 0;
    for (let i = 0; i < probed; i++) {
      const pfn = pfns[i]!;
      probe.begin();
      const splits = dm.setReadOnly(pfn);
      const ro = probe.end().lines;
      probe.begin();
      dm.setDefault(pfn);
      const rw = probe.end().lines;
      if (splits > 0) {
        splitting++;
        splittingLines += ro;
      } else {
        plain++;
        plainLines += ro;
      }
      restoreLines += rw;
      most = Math.max(most, ro, rw);
      if ((i & 63) === 63) ctx.progress(`${name}: probing`, i + 1, probed);
    }
    const rec = (metric: string, value: number, note: string) => ctx.record({ system: name, workload, metric, value, unit: "lines", note });
    if (splitting > 0) rec("lines/ro change", splittingLines / splitting, `${splitting} changes that split`);
    if (plain > 0) rec("lines/ro change", plainLines / plain, `${plain} in split tables`);
    rec("lines/rw change", restoreLines / probed, collapse ? "restore + collapse" : "restore");
    rec("lines, worst", most, `of ${probed * 2} changes`);
  }
}

/** A set_memory_ro + set_memory_rw pair on each page of `pfns` in turn; `ops` counts single changes. */
function directMapContender(name: string, map: MemoryMap, pfns: Int32Array, collapse: boolean): Contender {
  return {
    name,
    setup() {
      const dm = new DirectMap(map, { collapse });
      // Touch every page once, so without collapse the timed rounds see the steady state (all split).
      for (let i = 0; i < pfns.length; i++) {
        dm.setReadOnly(pfns[i]!);
        dm.setDefault(pfns[i]!);
      }
      const cursor = Int32Array.of(0);
      return (ops) => changePairs(dm, pfns, cursor, ops);
    },
  };
}

/** The timed loop, at module level with its state passed in (see `Contender`). */
function changePairs(dm: DirectMap, pfns: Int32Array, cursor: Int32Array, ops: number): number {
  const n = pfns.length;
  let c = cursor[0]!;
  let splits = 0;
  for (let i = 0; i < ops; i += 2) {
    const pfn = pfns[c]!;
    c = c + 1 === n ? 0 : c + 1;
    splits += dm.setProtection(pfn, 1, 1);
    splits += dm.setProtection(pfn, 1, 0);
  }
  cursor[0] = c;
  return splits;
}

/**
 * Random `set_memory_ro` / `set_memory_rw` on single pages of a physmem DirectMap (4 GiB of RAM,
 * 1 GiB leaves at first), with and without collapsing tables back: the splits each change causes,
 * the DirectMap4k/2M/1G counters and page-table bytes after, cache lines per change from a
 * ProbingArena, and ns per change against a flat per-page byte array.
 */
const suite: Suite = {
  name: "direct-map",
  description: "Random set_memory_ro/rw on pages of a physmem DirectMap: splits, DirectMap4k/2M/1G, page-table bytes, lines per change",
  default: true,
  run(ctx) {
    const { machine, changes, probed } = sizes(ctx.quick);
    const map = MemoryMap.uniform(machine);
    const pfns = randomIndices(ctx.seed, "direct-map", changes, map.presentPages);
    const counted = `set_memory_ro on ${changes} random pages of ${formatBytes(machine)}, then rw`;
    countSplits(ctx, map, pfns, counted);
    // Timed apart: one shared op count for a 200 ns and a 10 us contender would leave the fast ones
    // rounds too short to time.
    for (const { name, collapse } of SYSTEMS) {
      const workload = collapse ? "ro+rw pairs: split, then collapse, every time" : `ro+rw pairs in split tables (${changes} pages)`;
      ctx.time(workload, [flatUpdateFloor(map.presentPages, pfns), directMapContender(name, map, pfns, collapse)], { floor: "flat Uint8Array", note: "ns per change" });
    }
    // After the timings: a probe runs the code over ProbingArena's proxy arrays, which leaves V8's
    // feedback for it generic for the rest of the process.
    countLines(ctx, map, pfns, probed, `probe: ${probed} ro+rw pairs on random pages`);
  },
};

export default suite;
