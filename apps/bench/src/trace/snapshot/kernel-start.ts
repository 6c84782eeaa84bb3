import { BuddyAllocator, MigrateType, type BuddyOptions, type DescribedBlock } from "@mmkit/buddy";
import { MemoryMap } from "@mmkit/physmem";
import { SeededRandom } from "../../workloads/random.js";
import { SnapshotError, SnapshotErrorCode, type SnapshotWarning } from "./errors.js";
import { MODEL_TYPES, type CheckedSnapshot, type SnapshotZone } from "./snapshot-set.js";
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

/** What the layout steps share: who owns each pfn, each pageblock's type and zone, the blocks chosen. */
interface Layout {
  readonly before: CheckedSnapshot;
  readonly footprint: TraceFootprint;
  readonly rng: SeededRandom | null;
  readonly pbo: number;
  readonly pbPages: number;
  /** OWN_* of each pfn. */
  readonly own: Uint8Array;
  /** Migratetype of each pageblock, -1 while unassigned. */
  readonly pbType: Int8Array;
  /** Zone (node) of each pageblock, -1 while unclaimed. */
  readonly pbZone: Int16Array;
  readonly free: DescribedBlock[];
  /** Order of the free block starting at a pfn (the buddy check). */
  readonly freeAt: Map<number, number>;
  readonly allocated: DescribedBlock[];
  /** [cpu, pfn] of each per-CPU page. */
  readonly perCpu: [number, number][];
  readonly ranges: { base: number; size: number; node: number }[];
  readonly unplaced: string[];
  readonly warnings: SnapshotWarning[];
}

/** One zone being laid out. */
interface ZoneLayout {
  readonly zone: SnapshotZone;
  readonly node: number;
  readonly start: number;
  readonly stop: number;
  /** The zone's pageblocks (a pageblock shared with an earlier zone stays that zone's). */
  readonly mine: number[];
  /** Pageblocks per type taken by free blocks of a pageblock or more. */
  readonly used: number[];
  /** Whole pageblocks that are holes. */
  readonly holeBlocks: Set<number>;
  /** Hole pages still to place. */
  holes: number;
}

/** Step 1: the pre-capture blocks at the kernel's pfns. */
function placePrecapture(L: Layout): void {
  const pre = L.footprint.precapture;
  for (let i = 0; i < pre.length; i += 2) {
    const pfn = pre[i]!;
    const size = 2 ** pre[i + 1]!;
    for (let p = pfn; p < pfn + size; p++) {
      if (L.own[p] !== OWN_FREE) throw new SnapshotError(SnapshotErrorCode.Mismatch, L.footprint.traceName, 0, `pre-capture block at pfn 0x${pfn.toString(16)} overlaps another`);
      L.own[p] = OWN_PRECAPTURE;
    }
    L.allocated.push({ pfn, order: pre[i + 1]! });
  }
}

/** The zone's counts against the trace: an error when the trace frees more than the zone holds allocated, a warning when it never touches it. */
function checkZoneAgainstTrace(L: Layout, zone: SnapshotZone): void {
  const zi = zone.zoneinfo;
  const file = L.before.snapshot.zoneinfo.file;
  const zoneFree = zone.freeByType.reduce((a, row) => a + row.reduce((b, n, o) => b + n * 2 ** o, 0), 0);
  const pcpPages = zi.pagesets.reduce((a, p) => a + p.count, 0);
  const allocatable = zi.present - zoneFree - pcpPages;
  const index = L.footprint.zones.findIndex((z) => z.startPfn === zi.startPfn);
  const pre = L.footprint.precapturePages[index] ?? 0;
  if (pre > allocatable) {
    throw new SnapshotError(SnapshotErrorCode.Mismatch, file, zi.line, `the trace frees ${pre} pages of zone ${zone.label} it never allocated, but the snapshot leaves only ${allocatable} pages of it allocated (${zi.present} present - ${zoneFree} free - ${pcpPages} per-CPU)`);
  }
  if (L.footprint.events[index] === 0 && zi.managed > 0) {
    L.warnings.push({ file, line: zi.line, message: `zone ${zone.label} (${zi.managed} managed pages) is never touched by the trace: it only changes by what the trace cannot show` });
  }
}

/** A whole pageblock of the zone that nothing owns yet and that has no type. */
function clean(L: Layout, Z: ZoneLayout, b: number): boolean {
  if (b * L.pbPages < Z.start || (b + 1) * L.pbPages > Z.stop || L.pbZone[b] !== Z.node || L.pbType[b] !== -1) return false;
  for (let p = b * L.pbPages; p < (b + 1) * L.pbPages; p++) if (L.own[p] !== OWN_FREE) return false;
  return true;
}

/** Step 2: free blocks of a pageblock or more on clean whole pageblocks, highest first, largest order first. */
function placeLargeFree(L: Layout, Z: ZoneLayout): void {
  const orders = L.before.orders;
  const first = Z.mine[0] ?? 0;
  const last = Z.mine[Z.mine.length - 1] ?? -1;
  for (let o = orders - 1; o >= L.pbo; o--) {
    const group = 2 ** (o - L.pbo);
    const whole = (b: number): boolean => {
      for (let k = 0; k < group; k++) if (!clean(L, Z, b + k)) return false;
      return true;
    };
    const candidates: number[] = [];
    for (let b = Math.ceil(first / group) * group; b + group - 1 <= last; b += group) if (whole(b)) candidates.push(b);
    const seq = order(candidates.length, L.rng, true);
    let next = 0;
    for (const t of [MigrateType.Movable, MigrateType.Unmovable, MigrateType.Reclaimable]) {
      let want = Z.zone.freeByType[t]![o]!;
      while (want > 0 && next < seq.length) {
        const b = candidates[seq[next++]!]!;
        // Never beside a free buddy of the same order: the kernel would have merged the two.
        if (!whole(b) || (o < orders - 1 && L.freeAt.get((b * L.pbPages) ^ (group * L.pbPages)) === o)) continue;
        for (let k = 0; k < group; k++) L.pbType[b + k] = t;
        L.own.fill(OWN_FREE_BLOCK, b * L.pbPages, (b + group) * L.pbPages);
        L.free.push({ pfn: b * L.pbPages, order: o });
        L.freeAt.set(b * L.pbPages, o);
        Z.used[t]! += group;
        want--;
      }
      if (want > 0) L.unplaced.push(`${Z.zone.label} ${MODEL_TYPES[t]} order ${o}: ${want} of ${Z.zone.freeByType[t]![o]}`);
    }
  }
}

/**
 * Pageblocks the kernel did not count (offline memory, or a hole as large as a pageblock, such as
 * x86's PCI hole below 4 GiB) become whole-pageblock holes, lowest first, so they take no type from
 * pagetypeinfo's counts.
 */
function placeWholeHoles(L: Layout, Z: ZoneLayout): void {
  let uncounted = Z.mine.length - Z.zone.pageblocksByType.reduce((a, c) => a + c, 0);
  for (const b of Z.mine) {
    if (uncounted <= 0 || Z.holes < L.pbPages) break;
    if (!clean(L, Z, b)) continue;
    let untouched = true;
    for (let p = b * L.pbPages; p < (b + 1) * L.pbPages && untouched; p++) untouched = L.footprint.untouched(p);
    if (!untouched) continue;
    L.own.fill(OWN_HOLE, b * L.pbPages, (b + 1) * L.pbPages);
    Z.holeBlocks.add(b);
    Z.holes -= L.pbPages;
    uncounted--;
  }
}

/** Step 3: the other pageblocks' types, by address: Unmovable, Reclaimable, then Movable. */
function assignTypes(L: Layout, Z: ZoneLayout): void {
  const rest = Z.mine.filter((b) => L.pbType[b] === -1 && !Z.holeBlocks.has(b));
  const seq = order(rest.length, L.rng, false);
  let k = 0;
  for (const t of [MigrateType.Unmovable, MigrateType.Reclaimable, MigrateType.Movable]) {
    const n = Math.max(0, Z.zone.pageblocksByType[t]! - Z.used[t]!);
    for (let i = 0; i < n && k < seq.length; i++) L.pbType[rest[seq[k++]!]!] = t;
  }
  for (; k < seq.length; k++) L.pbType[rest[seq[k]!]!] = MigrateType.Movable;
  for (const t of [0, 1, 2]) {
    if (Z.zone.pageblocksByType[t]! < Z.used[t]!) {
      L.warnings.push({ file: L.before.snapshot.pagetypeinfo.file, line: Z.zone.pagetypeinfo.pageblockLine, message: `zone ${Z.zone.label}: ${Z.used[t]} ${MODEL_TYPES[t]} pageblocks are wholly free but only ${Z.zone.pageblocksByType[t]} are counted` });
    }
  }
}

/** The zone's pageblocks of type `t`, highest first (or shuffled). */
function ofType(L: Layout, Z: ZoneLayout, t: number): number[] {
  const list = Z.mine.filter((b) => L.pbType[b] === t);
  return order(list.length, L.rng, true).map((i) => list[i]!);
}

/** Step 4: smaller free blocks inside pageblocks of their type, highest pageblock and position first. */
function placeSmallFree(L: Layout, Z: ZoneLayout): void {
  for (const t of [MigrateType.Movable, MigrateType.Unmovable, MigrateType.Reclaimable]) {
    const blocks = ofType(L, Z, t);
    for (let o = L.pbo - 1; o >= 0; o--) {
      let want = Z.zone.freeByType[t]![o]!;
      const size = 2 ** o;
      for (let i = 0; i < blocks.length && want > 0; i++) {
        const b = blocks[i]!;
        for (let pfn = (b + 1) * L.pbPages - size; pfn >= b * L.pbPages && want > 0; pfn -= size) {
          if (pfn < Z.start || pfn + size > Z.stop) continue;
          let ok = true;
          for (let p = pfn; p < pfn + size && ok; p++) ok = L.own[p] === OWN_FREE;
          if (!ok || L.freeAt.get(pfn ^ size) === o) continue;
          L.own.fill(OWN_FREE_BLOCK, pfn, pfn + size);
          L.free.push({ pfn, order: o });
          L.freeAt.set(pfn, o);
          want--;
        }
      }
      if (want > 0) L.unplaced.push(`${Z.zone.label} ${MODEL_TYPES[t]} order ${o}: ${want} of ${Z.zone.freeByType[t]![o]}`);
    }
  }
}

/** Step 5: each CPU's per-CPU pages as order-0 pages, Movable pageblocks first, lowest pfn first. */
function placePerCpu(L: Layout, Z: ZoneLayout): void {
  const blocks = [...ofType(L, Z, MigrateType.Movable), ...ofType(L, Z, MigrateType.Unmovable), ...ofType(L, Z, MigrateType.Reclaimable)];
  let bi = 0;
  let pfn = blocks.length > 0 ? blocks[0]! * L.pbPages : Z.stop;
  for (const set of Z.zone.zoneinfo.pagesets) {
    let want = set.count;
    while (want > 0 && bi < blocks.length) {
      if (pfn >= (blocks[bi]! + 1) * L.pbPages) {
        if (++bi < blocks.length) pfn = blocks[bi]! * L.pbPages;
        continue;
      }
      if (pfn >= Z.start && pfn < Z.stop && L.own[pfn] === OWN_FREE) {
        L.own[pfn] = OWN_PCP;
        L.allocated.push({ pfn, order: 0 });
        L.perCpu.push([set.cpu, pfn]);
        want--;
      }
      pfn++;
    }
    if (want > 0) L.unplaced.push(`${Z.zone.label} cpu ${set.cpu} per-CPU pages: ${want} of ${set.count}`);
  }
}

/**
 * Step 6: the remaining holes on the lowest pfns still unowned that the trace never touches (last,
 * so they take no room a free block needs), then the zone's RAM ranges around all holes.
 */
function placeHoles(L: Layout, Z: ZoneLayout): void {
  const zi = Z.zone.zoneinfo;
  for (let p = Z.start; p < Z.stop && Z.holes > 0; p++) {
    if (L.own[p] === OWN_FREE && L.footprint.untouched(p)) {
      L.own[p] = OWN_HOLE;
      Z.holes--;
    }
  }
  if (Z.holes > 0) {
    throw new SnapshotError(SnapshotErrorCode.Mismatch, L.before.snapshot.zoneinfo.file, zi.line, `zone ${Z.zone.label} has ${zi.spanned - zi.present} pages of holes but the trace touches all but ${zi.spanned - zi.present - Z.holes} of its pfns`);
  }
  let runStart = -1;
  for (let p = Z.start; p <= Z.stop; p++) {
    const ram = p < Z.stop && L.own[p] !== OWN_HOLE;
    if (ram && runStart < 0) runStart = p;
    if (!ram && runStart >= 0) {
      L.ranges.push({ base: runStart * L.before.pageSize, size: (p - runStart) * L.before.pageSize, node: Z.node });
      runStart = -1;
    }
  }
}

/** The per-CPU limits of each zone: pagesets' batch and high, high raised above a count that reaches it. */
function perCpuLimits(L: Layout): { batch: number; high: number }[] {
  const file = L.before.snapshot.zoneinfo.file;
  return L.before.zones.map((z) => {
    const set = z.zoneinfo.pagesets[0];
    if (set === undefined || set.batch < 1 || set.high < 1) {
      L.warnings.push({ file, line: z.zoneinfo.line, message: `zone ${z.label} prints no usable pagesets: per-CPU batch 1, high 6 assumed` });
      return { batch: 1, high: 6 };
    }
    // A list at or above its high mark would drain as it is laid out (kernels since 6.7 move
    // high between high_min and high_max): high is raised just above the fullest CPU's count.
    const fullest = Math.max(...z.zoneinfo.pagesets.map((p) => p.count));
    if (fullest >= set.high) L.warnings.push({ file, line: z.zoneinfo.line, message: `zone ${z.label}: a CPU holds ${fullest} per-CPU pages, at or above high ${set.high}; high raised to ${fullest + 1} so the start keeps them` });
    return { batch: set.batch, high: Math.max(set.high, fullest + 1) };
  });
}

/**
 * Builds the kernel's starting state (see the file comment for the layout). Throws
 * {@link SnapshotError} `ERR_SNAPSHOT_MISMATCH` when the trace frees more pre-capture pages in a
 * zone than the snapshot leaves allocated there, when two pre-capture blocks overlap, or when the
 * trace touches so many pfns of a zone that its holes find no room.
 *
 * @example
 * ```ts
 * const start = buildKernelStart(checkSnapshot(before), footprint, 0);
 * start.buddy.buddyinfo(); // the snapshot's buddyinfo, zone by zone
 * ```
 */
export function buildKernelStart(before: CheckedSnapshot, footprint: TraceFootprint, layoutSeed: number): KernelStart {
  const pbo = before.pageblockOrder;
  const pbPages = 2 ** pbo;
  const zones = before.zones;
  const end = Math.max(...zones.map((z) => z.zoneinfo.startPfn + z.zoneinfo.spanned));
  const pbCount = Math.ceil(end / pbPages);
  const L: Layout = {
    before,
    footprint,
    rng: layoutSeed === 0 ? null : new SeededRandom(layoutSeed >>> 0, "kernel layout"),
    pbo,
    pbPages,
    own: new Uint8Array(end),
    pbType: new Int8Array(pbCount).fill(-1),
    pbZone: new Int16Array(pbCount).fill(-1),
    free: [],
    freeAt: new Map(),
    allocated: [],
    perCpu: [],
    ranges: [],
    unplaced: [],
    warnings: [],
  };
  placePrecapture(L);
  zones.forEach((zone, node) => {
    checkZoneAgainstTrace(L, zone);
    const start = zone.zoneinfo.startPfn;
    const stop = start + zone.zoneinfo.spanned;
    const mine: number[] = [];
    for (let b = Math.floor(start / pbPages); b <= Math.floor((stop - 1) / pbPages); b++) {
      if (L.pbZone[b] === -1) {
        L.pbZone[b] = node;
        mine.push(b);
      }
    }
    const Z: ZoneLayout = { zone, node, start, stop, mine, used: [0, 0, 0], holeBlocks: new Set(), holes: zone.zoneinfo.spanned - zone.zoneinfo.present };
    placeLargeFree(L, Z);
    placeWholeHoles(L, Z);
    assignTypes(L, Z);
    placeSmallFree(L, Z);
    placePerCpu(L, Z);
    placeHoles(L, Z);
  });
  if (L.unplaced.length > 0) {
    L.warnings.push({ file: before.snapshot.pagetypeinfo.file, line: 0, message: `the layout could not place: ${L.unplaced.join("; ")} (pre-capture pages of the trace are in the way); the start differs from the snapshot by these blocks` });
  }
  const cpus = Math.max(1, ...zones.map((z) => z.zoneinfo.pagesets.length));
  const options: BuddyOptions = {
    maxOrder: before.orders - 1,
    pageblockOrder: pbo,
    cpus,
    // Every CPU's home is the highest zone, where the kernel's normal allocations go first.
    cpuNodes: new Array<number>(cpus).fill(zones.length - 1),
    initialState: {
      pageblocks: Array.from(L.pbType, (t) => (t < 0 ? MigrateType.Movable : t)),
      free: L.free,
      allocated: L.allocated,
      watermarks: zones.map((z) => ({ min: z.zoneinfo.min, low: z.zoneinfo.low, high: z.zoneinfo.high })),
      perCpuLimits: perCpuLimits(L),
    },
  };
  const buddy = new BuddyAllocator(new MemoryMap({ pageSize: before.pageSize, ranges: L.ranges }), options);
  // Per-CPU pages go onto their CPU's list (below `high`, so nothing drains).
  for (const [cpu, pfn] of L.perCpu) buddy.cpu(Math.min(cpu, cpus - 1)).freePages(pfn, 0);
  buddy.resetCounters();
  return { buddy, zoneNames: zones.map((z) => z.label), precapture: footprint.precapture, unplaced: L.unplaced, warnings: L.warnings, layoutSeed };
}

/**
 * The baseline a snapshot start is measured against: the same machine (zones, holes, watermarks,
 * per-CPU limits, CPUs) with all of its RAM free in maximal aligned blocks and every pageblock
 * Movable, as at boot, and nothing "before the capture" (pre-capture frees find nothing to free).
 * O(spanned pages).
 *
 * @example
 * ```ts
 * const empty = buildAllFreeStart(start); // replay it too, to see what the snapshot start is worth
 * ```
 */
export function buildAllFreeStart(like: KernelStart): KernelStart {
  const b = like.buddy;
  const free: DescribedBlock[] = [];
  for (const r of b.map.ranges) {
    for (let pfn = r.startPfn; pfn < r.endPfn; ) {
      let o = b.maxOrder;
      while (o > 0 && (pfn % 2 ** o !== 0 || pfn + 2 ** o > r.endPfn)) o--;
      free.push({ pfn, order: o });
      pfn += 2 ** o;
    }
  }
  const nodes = b.map.nodes.map((n) => n.id);
  const buddy = new BuddyAllocator(b.map, {
    maxOrder: b.maxOrder,
    pageblockOrder: b.pageblockOrder,
    cpus: b.cpus,
    cpuNodes: new Array<number>(b.cpus).fill(nodes.length - 1),
    initialState: {
      free,
      watermarks: nodes.map((n) => b.watermarks(n)),
      perCpuLimits: nodes.map((n) => b.perCpuLimits(0, n)),
    },
  });
  return { buddy, zoneNames: like.zoneNames, precapture: [], unplaced: [], warnings: [], layoutSeed: -1 };
}
