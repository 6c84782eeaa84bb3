import { BuddyAllocator, MigrateType, type BuddyOptions, type DescribedBlock } from "@mmkit/buddy";
import { MemoryMap } from "@mmkit/physmem";
import { SeededRandom } from "../../workloads/random.js";
import { SnapshotError, SnapshotErrorCode, type SnapshotWarning } from "./errors.js";
import { MODEL_TYPES, type CheckedSnapshot } from "./snapshot-set.js";
import type { TraceFootprint } from "./trace-footprint.js";

/**
 * The replay machine as the kernel had it before the trace: a `BuddyAllocator` whose nodes are
 * the snapshot's zones, laid out from the "before" snapshot and what the trace says about pfns.
 *
 * What the snapshot fixes, the machine copies: each zone's span and present pages (zoneinfo), its
 * min/low/high watermarks and per-CPU `batch`/`high` (zoneinfo), the number of CPUs (pagesets),
 * pageblocks per migratetype (pagetypeinfo), free blocks per zone, migratetype and order
 * (pagetypeinfo; buddyinfo is its cross-check), and pages on each CPU's lists (pagesets `count`).
 * What the trace fixes: every block it frees without having allocated it belonged to "before the
 * capture", so it is allocated at that very pfn with that order, and the replay registers it as
 * live (a later free of it frees it in the model).
 *
 * What neither says (which pfns), this layout chooses, in this order, per zone:
 * 1. pre-capture blocks at the kernel's pfns;
 * 2. free blocks of a pageblock or more on whole pageblocks that hold no pre-capture page,
 *    highest address first (boot frees memory in address order and allocations take list heads, so
 *    a kernel's untouched memory is high), largest order first, Movable then Unmovable then
 *    Reclaimable;
 * 3. the other pageblocks' migratetypes in address order, Unmovable first, then Reclaimable, then
 *    Movable (early unmovable allocations claim low pageblocks);
 * 4. smaller free blocks inside pageblocks of their type, highest pageblock and highest aligned
 *    position first, never on a pre-capture page and never beside a free buddy of the same order
 *    (the kernel would have merged the two);
 * 5. per-CPU pages as order-0 pages in Movable pageblocks first (then Unmovable, Reclaimable),
 *    lowest free pfn first, put on the CPU's list;
 * 6. holes (spanned - present): first whole pageblocks, as many as pagetypeinfo did not count
 *    (offline memory, a hole such as x86's PCI hole below 4 GiB), lowest first and before step 3
 *    so they take no type; the rest on the lowest pfns left that the trace never touches (firmware
 *    holes sit low);
 * 7. every other page is allocated "before the capture" (reserved memory included), in the
 *    largest aligned blocks that fit.
 * A non-zero `layoutSeed` shuffles the candidate pageblocks of steps 2-5 instead, so a run over
 * several seeds measures how much the unknown placement moves the end result.
 *
 * Cost O(spanned pages + free blocks); memory one byte per pfn.
 */

/** The built machine and what went into it. */
export interface KernelStart {
  buddy: BuddyAllocator;
  /** Zone names, indexed by node id (node i = the i-th zone by start pfn). */
  zoneNames: string[];
  /** Pre-capture blocks as [pfn, order] pairs, allocated in the model at the kernel's pfns. */
  precapture: number[];
  /** Free blocks of each order that could not be placed, per zone (empty when the start is exact). */
  unplaced: string[];
  warnings: SnapshotWarning[];
  layoutSeed: number;
}

const OWN_FREE = 0;
const OWN_HOLE = 1;
const OWN_PRECAPTURE = 2;
const OWN_FREE_BLOCK = 3;
const OWN_PCP = 4;

/** Ordered indices 0..n-1: ascending, descending, or shuffled by `rng`. */
function order(n: number, rng: SeededRandom | null, descending: boolean): number[] {
  const a = Array.from({ length: n }, (_, i) => (descending ? n - 1 - i : i));
  if (rng !== null) rng.shuffle(a);
  return a;
}

/**
 * Builds the kernel's starting state (see the file comment for the layout). Throws
 * {@link SnapshotError} `ERR_SNAPSHOT_MISMATCH` when the trace frees more pre-capture pages in a
 * zone than the snapshot leaves allocated there, or when two pre-capture blocks overlap.
 *
 * @example
 * ```ts
 * const start = buildKernelStart(checkSnapshot(before), footprint, 0);
 * start.buddy.buddyinfo(); // the snapshot's buddyinfo, zone by zone
 * ```
 */
export function buildKernelStart(before: CheckedSnapshot, footprint: TraceFootprint, layoutSeed: number): KernelStart {
  const warnings: SnapshotWarning[] = [];
  const unplaced: string[] = [];
  const rng = layoutSeed === 0 ? null : new SeededRandom(layoutSeed >>> 0, "kernel layout");
  const pbo = before.pageblockOrder;
  const pbPages = 2 ** pbo;
  const zones = before.zones;
  const end = Math.max(...zones.map((z) => z.zoneinfo.startPfn + z.zoneinfo.spanned));
  const own = new Uint8Array(end);
  const pbType = new Int8Array(Math.ceil(end / pbPages)).fill(-1);
  const pbZone = new Int16Array(pbType.length).fill(-1);
  const free: DescribedBlock[] = [];
  const freeAt = new Map<number, number>();
  const allocated: DescribedBlock[] = [];
  const perCpu: [number, number][] = [];
  const ranges: { base: number; size: number; node: number }[] = [];
  const file = before.snapshot.zoneinfo.file;

  // Pre-capture blocks, at the kernel's pfns.
  const pre = footprint.precapture;
  for (let i = 0; i < pre.length; i += 2) {
    const pfn = pre[i]!;
    const size = 2 ** pre[i + 1]!;
    for (let p = pfn; p < pfn + size; p++) {
      if (own[p] !== OWN_FREE) throw new SnapshotError(SnapshotErrorCode.Mismatch, footprint.traceName, 0, `pre-capture block at pfn 0x${pfn.toString(16)} overlaps another`);
      own[p] = OWN_PRECAPTURE;
    }
    allocated.push({ pfn, order: pre[i + 1]! });
  }

  zones.forEach((zone, node) => {
    const zi = zone.zoneinfo;
    const start = zi.startPfn;
    const stop = start + zi.spanned;
    const zoneFree = zone.freeByType.reduce((a, row) => a + row.reduce((b, n, o) => b + n * 2 ** o, 0), 0);
    const pcpPages = zi.pagesets.reduce((a, p) => a + p.count, 0);
    const allocatable = zi.present - zoneFree - pcpPages;
    const pre = footprint.precapturePages[footprint.zones.findIndex((z) => z.startPfn === start)] ?? 0;
    if (pre > allocatable) {
      throw new SnapshotError(SnapshotErrorCode.Mismatch, file, zi.line, `the trace frees ${pre} pages of zone ${zone.label} it never allocated, but the snapshot leaves only ${allocatable} pages of it allocated (${zi.present} present - ${zoneFree} free - ${pcpPages} per-CPU)`);
    }
    if (footprint.events[footprint.zones.findIndex((z) => z.startPfn === start)] === 0 && zi.managed > 0) {
      warnings.push({ file, line: zi.line, message: `zone ${zone.label} (${zi.managed} managed pages) is never touched by the trace: it only changes by what the trace cannot show` });
    }
    // The zone's pageblocks (a pageblock shared with an earlier zone stays that zone's).
    const first = Math.floor(start / pbPages);
    const last = Math.floor((stop - 1) / pbPages);
    const mine: number[] = [];
    for (let b = first; b <= last; b++) {
      if (pbZone[b] === -1) {
        pbZone[b] = node;
        mine.push(b);
      }
    }
    const clean = (b: number): boolean => {
      if (b * pbPages < start || (b + 1) * pbPages > stop || pbZone[b] !== node || pbType[b] !== -1) return false;
      for (let p = b * pbPages; p < (b + 1) * pbPages; p++) if (own[p] !== OWN_FREE) return false;
      return true;
    };
    const used = [0, 0, 0];
    // 2. Free blocks of a pageblock or more, on clean whole pageblocks, highest first.
    for (let o = before.orders - 1; o >= pbo; o--) {
      const group = 2 ** (o - pbo);
      const candidates: number[] = [];
      for (let b = Math.ceil(first / group) * group; b + group - 1 <= last; b += group) {
        let ok = true;
        for (let k = 0; k < group && ok; k++) ok = clean(b + k);
        if (ok) candidates.push(b);
      }
      const seq = order(candidates.length, rng, true);
      let next = 0;
      for (const t of [MigrateType.Movable, MigrateType.Unmovable, MigrateType.Reclaimable]) {
        let want = zone.freeByType[t]![o]!;
        while (want > 0 && next < seq.length) {
          const b = candidates[seq[next++]!]!;
          let ok = true;
          for (let k = 0; k < group && ok; k++) ok = clean(b + k);
          // Never beside a free buddy of the same order: the kernel would have merged the two.
          if (!ok || (o < before.orders - 1 && freeAt.get((b * pbPages) ^ (group * pbPages)) === o)) continue;
          for (let k = 0; k < group; k++) pbType[b + k] = t;
          for (let p = b * pbPages; p < (b + group) * pbPages; p++) own[p] = OWN_FREE_BLOCK;
          free.push({ pfn: b * pbPages, order: o });
          freeAt.set(b * pbPages, o);
          used[t]! += group;
          want--;
        }
        if (want > 0) unplaced.push(`${zone.label} ${MODEL_TYPES[t]} order ${o}: ${want} of ${zone.freeByType[t]![o]}`);
      }
    }
    // Pageblocks the kernel did not count (offline memory, or a hole as large as a pageblock, such
    // as x86's PCI hole below 4 GiB) become whole-pageblock holes, lowest first, so they take no
    // type from pagetypeinfo's counts.
    let holes = zi.spanned - zi.present;
    let uncounted = mine.length - zone.pageblocksByType.reduce((a, c) => a + c, 0);
    const holeBlock = new Set<number>();
    for (const b of mine) {
      if (uncounted <= 0 || holes < pbPages) break;
      if (!clean(b)) continue;
      let untouched = true;
      for (let p = b * pbPages; p < (b + 1) * pbPages && untouched; p++) untouched = footprint.untouched(p);
      if (!untouched) continue;
      for (let p = b * pbPages; p < (b + 1) * pbPages; p++) own[p] = OWN_HOLE;
      holeBlock.add(b);
      holes -= pbPages;
      uncounted--;
    }
    // 3. The other pageblocks' types, by address: Unmovable, Reclaimable, then Movable.
    const rest = mine.filter((b) => pbType[b] === -1 && !holeBlock.has(b));
    const seq = order(rest.length, rng, false);
    const need = [MigrateType.Unmovable, MigrateType.Reclaimable, MigrateType.Movable].map((t) => [t, Math.max(0, zone.pageblocksByType[t]! - used[t]!)] as const);
    let k = 0;
    for (const [t, n] of need) for (let i = 0; i < n && k < seq.length; i++) pbType[rest[seq[k++]!]!] = t;
    for (; k < seq.length; k++) pbType[rest[seq[k]!]!] = MigrateType.Movable;
    for (const t of [0, 1, 2]) {
      if (zone.pageblocksByType[t]! < used[t]!) warnings.push({ file: zone.pagetypeinfo.pageblockLine > 0 ? before.snapshot.pagetypeinfo.file : file, line: zone.pagetypeinfo.pageblockLine, message: `zone ${zone.label}: ${used[t]} ${MODEL_TYPES[t]} pageblocks are wholly free but only ${zone.pageblocksByType[t]} are counted` });
    }
    // 4. Smaller free blocks inside pageblocks of their type, highest first.
    const ofType = (t: number): number[] => {
      const list = mine.filter((b) => pbType[b] === t);
      return order(list.length, rng, true).map((i) => list[i]!);
    };
    for (const t of [MigrateType.Movable, MigrateType.Unmovable, MigrateType.Reclaimable]) {
      const blocks = ofType(t);
      for (let o = pbo - 1; o >= 0; o--) {
        let want = zone.freeByType[t]![o]!;
        const size = 2 ** o;
        for (let i = 0; i < blocks.length && want > 0; i++) {
          const b = blocks[i]!;
          for (let pfn = (b + 1) * pbPages - size; pfn >= b * pbPages && want > 0; pfn -= size) {
            if (pfn < start || pfn + size > stop) continue;
            let ok = true;
            for (let p = pfn; p < pfn + size && ok; p++) ok = own[p] === OWN_FREE;
            if (!ok || freeAt.get(pfn ^ size) === o) continue;
            for (let p = pfn; p < pfn + size; p++) own[p] = OWN_FREE_BLOCK;
            free.push({ pfn, order: o });
            freeAt.set(pfn, o);
            want--;
          }
        }
        if (want > 0) unplaced.push(`${zone.label} ${MODEL_TYPES[t]} order ${o}: ${want} of ${zone.freeByType[t]![o]}`);
      }
    }
    // 5. Per-CPU pages: order 0, Movable pageblocks first.
    const pcpBlocks = [...ofType(MigrateType.Movable), ...ofType(MigrateType.Unmovable), ...ofType(MigrateType.Reclaimable)];
    let bi = 0;
    let pfn = pcpBlocks.length > 0 ? pcpBlocks[0]! * pbPages : stop;
    for (const set of zi.pagesets) {
      let want = set.count;
      while (want > 0 && bi < pcpBlocks.length) {
        const b = pcpBlocks[bi]!;
        if (pfn >= (b + 1) * pbPages) {
          if (++bi < pcpBlocks.length) pfn = pcpBlocks[bi]! * pbPages;
          continue;
        }
        if (pfn >= start && pfn < stop && own[pfn] === OWN_FREE) {
          own[pfn] = OWN_PCP;
          allocated.push({ pfn, order: 0 });
          perCpu.push([set.cpu, pfn]);
          want--;
        }
        pfn++;
      }
      if (want > 0) unplaced.push(`${zone.label} cpu ${set.cpu} per-CPU pages: ${want} of ${set.count}`);
    }
    // 6. Holes on the lowest pfns still unowned that the trace never touches (last, so they take no
    // room a free block needs; the rest of what is unowned is allocated filler).
    for (let p = start; p < stop && holes > 0; p++) {
      if (own[p] === OWN_FREE && footprint.untouched(p)) {
        own[p] = OWN_HOLE;
        holes--;
      }
    }
    if (holes > 0) throw new SnapshotError(SnapshotErrorCode.Mismatch, file, zi.line, `zone ${zone.label} has ${zi.spanned - zi.present} pages of holes but the trace touches all but ${zi.spanned - zi.present - holes} of its pfns`);
    let runStart = -1;
    for (let p = start; p <= stop; p++) {
      const ram = p < stop && own[p] !== OWN_HOLE;
      if (ram && runStart < 0) runStart = p;
      if (!ram && runStart >= 0) {
        ranges.push({ base: runStart * before.pageSize, size: (p - runStart) * before.pageSize, node });
        runStart = -1;
      }
    }
  });
  if (unplaced.length > 0) warnings.push({ file: before.snapshot.pagetypeinfo.file, line: 0, message: `the layout could not place: ${unplaced.join("; ")} (pre-capture pages of the trace are in the way); the start differs from the snapshot by these blocks` });

  const map = new MemoryMap({ pageSize: before.pageSize, ranges });
  const cpus = Math.max(1, ...zones.map((z) => z.zoneinfo.pagesets.length));
  const pageblocks = Array.from(pbType, (t) => (t < 0 ? MigrateType.Movable : t));
  const options: BuddyOptions = {
    maxOrder: before.orders - 1,
    pageblockOrder: pbo,
    cpus,
    // Every CPU's home is the highest zone, where the kernel's normal allocations go first.
    cpuNodes: new Array<number>(cpus).fill(zones.length - 1),
    initialState: {
      pageblocks,
      free,
      allocated,
      watermarks: zones.map((z) => ({ min: z.zoneinfo.min, low: z.zoneinfo.low, high: z.zoneinfo.high })),
      perCpuLimits: zones.map((z) => {
        const set = z.zoneinfo.pagesets[0];
        if (set === undefined || set.batch < 1 || set.high < 1) {
          warnings.push({ file, line: z.zoneinfo.line, message: `zone ${z.label} prints no usable pagesets: per-CPU batch 1, high 6 assumed` });
          return { batch: 1, high: 6 };
        }
        // A list at or above its high mark would drain as it is laid out (kernels since 6.7 move
        // high between high_min and high_max): high is raised just above the fullest CPU's count.
        const fullest = Math.max(...z.zoneinfo.pagesets.map((p) => p.count));
        if (fullest >= set.high) warnings.push({ file, line: z.zoneinfo.line, message: `zone ${z.label}: a CPU holds ${fullest} per-CPU pages, at or above high ${set.high}; high raised to ${fullest + 1} so the start keeps them` });
        return { batch: set.batch, high: Math.max(set.high, fullest + 1) };
      }),
    },
  };
  const buddy = new BuddyAllocator(map, options);
  // Per-CPU pages go onto their CPU's list (below `high`, so nothing drains).
  for (const [cpu, pfn] of perCpu) buddy.cpu(Math.min(cpu, cpus - 1)).freePages(pfn, 0);
  buddy.resetCounters();
  return { buddy, zoneNames: zones.map((z) => z.label), precapture: pre, unplaced, warnings, layoutSeed };
}
