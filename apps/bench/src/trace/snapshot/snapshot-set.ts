import { buddyinfoFreePages, type Buddyinfo, type BuddyinfoZone } from "./buddyinfo.js";
import type { NamedCounters } from "./counters.js";
import { SnapshotError, SnapshotErrorCode, type SnapshotWarning } from "./errors.js";
import type { Pagetypeinfo, PagetypeinfoZone } from "./pagetypeinfo.js";
import type { Zoneinfo, ZoneinfoZone } from "./zoneinfo.js";

/**
 * The three migratetypes the model has, by their pagetypeinfo names, in `MigrateType` order.
 *
 * @example
 * ```ts
 * MODEL_TYPES.indexOf("Reclaimable"); // 2, MigrateType.Reclaimable
 * ```
 */
export const MODEL_TYPES = ["Unmovable", "Movable", "Reclaimable"] as const;

/**
 * Migratetypes the kernel prints that the model does not have, and the model type their counts go
 * to: highatomic reserves serve unmovable high-order atomic requests; CMA and isolated pageblocks
 * hold movable memory; `Reserve` (before 4.4) was carved out of movable blocks.
 *
 * @example
 * ```ts
 * FOLDED_TYPES.HighAtomic; // "Unmovable"
 * ```
 */
export const FOLDED_TYPES: Readonly<Record<string, (typeof MODEL_TYPES)[number]>> = { HighAtomic: "Unmovable", CMA: "Movable", Isolate: "Movable", Reserve: "Movable" };

/** One set of `/proc` files taken at one moment. vmstat and meminfo are optional. */
export interface KernelSnapshot {
  buddyinfo: Buddyinfo;
  pagetypeinfo: Pagetypeinfo;
  zoneinfo: Zoneinfo;
  vmstat?: NamedCounters;
  meminfo?: NamedCounters;
}

/** A populated zone seen through all three files. */
export interface SnapshotZone {
  node: number;
  name: string;
  /** The zone's name in tables: `DMA32`, or `node1 Normal` on a machine of several nodes. */
  label: string;
  zoneinfo: ZoneinfoZone;
  buddyinfo: BuddyinfoZone;
  pagetypeinfo: PagetypeinfoZone;
  /** Free blocks per model migratetype (MODEL_TYPES order) and order, folded types added in. */
  freeByType: number[][];
  /** Pageblocks per model migratetype, folded types added in. */
  pageblocksByType: number[];
}

/** A snapshot checked for consistency: its zones, page size and the warnings found. */
export interface CheckedSnapshot {
  snapshot: KernelSnapshot;
  zones: SnapshotZone[];
  /** Bytes per page (from MemTotal over the managed pages when meminfo is there, else 4096). */
  pageSize: number;
  pageblockOrder: number;
  /** Orders the kernel prints (maxOrder + 1). */
  orders: number;
  warnings: SnapshotWarning[];
}

/**
 * Pageblocks of a zone as the kernel counts them: one per pageblock-sized step from start_pfn. O(1).
 *
 * @example
 * ```ts
 * zonePageblocks(dma32, 9); // 504 for 258010 spanned pages
 * ```
 */
export function zonePageblocks(z: ZoneinfoZone, pageblockOrder: number): number {
  return Math.ceil(z.spanned / 2 ** pageblockOrder);
}

/**
 * Checks one snapshot's files against each other and returns its populated zones. Disagreements
 * that leave no honest starting state throw {@link SnapshotError} (`ERR_SNAPSHOT_MISMATCH`, naming
 * file and line): a zone in buddyinfo but not in zoneinfo (or populated in zoneinfo but missing
 * from buddyinfo or pagetypeinfo), more free pages than the zone manages, more pageblocks than it
 * spans, tables of different widths. Differences the moment between two reads explains (free
 * counts that differ between buddyinfo, pagetypeinfo, zoneinfo, vmstat and meminfo) and types the
 * model lacks become warnings. O(zones x orders x types).
 *
 * @example
 * ```ts
 * const checked = checkSnapshot(loadSnapshot(dir, "before"));
 * for (const w of checked.warnings) console.warn(formatWarning(w));
 * ```
 */
export function checkSnapshot(snapshot: KernelSnapshot): CheckedSnapshot {
  const { buddyinfo, pagetypeinfo, zoneinfo, vmstat, meminfo } = snapshot;
  const warnings: SnapshotWarning[] = [...pagetypeinfo.warnings];
  const orders = buddyinfo.zones[0]!.freeBlocks.length;
  if (pagetypeinfo.orders !== orders) {
    throw new SnapshotError(SnapshotErrorCode.Mismatch, pagetypeinfo.file, 0, `prints ${pagetypeinfo.orders} orders, ${buddyinfo.file} prints ${orders}: not from the same kernel`);
  }
  const pbo = pagetypeinfo.pageblockOrder;
  if (pbo >= orders) throw new SnapshotError(SnapshotErrorCode.Mismatch, pagetypeinfo.file, 0, `page block order ${pbo} is not below the ${orders} orders of ${buddyinfo.file}`);
  const zones: SnapshotZone[] = [];
  for (const b of buddyinfo.zones) {
    const zi = zoneinfo.zones.find((z) => z.node === b.node && z.zone === b.zone);
    if (zi === undefined) throw new SnapshotError(SnapshotErrorCode.Mismatch, buddyinfo.file, b.line, `zone ${b.zone} of node ${b.node} is not in ${zoneinfo.file}`);
    const free = buddyinfoFreePages(b);
    if (free > zi.managed) throw new SnapshotError(SnapshotErrorCode.Mismatch, buddyinfo.file, b.line, `zone ${b.zone} has ${free} free pages but ${zoneinfo.file} line ${zi.line} says it manages ${zi.managed}`);
    if (free !== zi.free) warnings.push({ file: buddyinfo.file, line: b.line, message: `zone ${b.zone}: ${free} free pages here, ${zi.free} in ${zoneinfo.file} line ${zi.line} (read at another moment?)` });
    const pt = pagetypeinfo.zones.find((z) => z.node === b.node && z.zone === b.zone);
    if (pt === undefined) throw new SnapshotError(SnapshotErrorCode.Mismatch, buddyinfo.file, b.line, `zone ${b.zone} of node ${b.node} is not in ${pagetypeinfo.file}`);
    const freeByType = MODEL_TYPES.map(() => new Array<number>(orders).fill(0));
    const pageblocksByType = MODEL_TYPES.map(() => 0);
    const typeIndex = (type: string, file: string, line: number, what: string, count: number): number => {
      let k = (MODEL_TYPES as readonly string[]).indexOf(type);
      if (k < 0) {
        const into = FOLDED_TYPES[type];
        if (into === undefined) throw new SnapshotError(SnapshotErrorCode.Format, file, line, `unknown migratetype ${JSON.stringify(type)} (this reader knows ${[...MODEL_TYPES, ...Object.keys(FOLDED_TYPES)].join(", ")})`);
        k = (MODEL_TYPES as readonly string[]).indexOf(into);
        if (count > 0) warnings.push({ file, line, message: `zone ${b.zone}: ${count} ${what} of type ${type}, which the model does not have, counted as ${into}` });
      }
      return k;
    };
    for (const [type, counts] of pt.freeBlocks) {
      const k = typeIndex(type, pagetypeinfo.file, pt.freeLines.get(type)!, "free blocks", counts.reduce((a, c) => a + c, 0));
      counts.forEach((c, o) => (freeByType[k]![o]! += c));
    }
    for (const [type, count] of pt.pageblocks) pageblocksByType[typeIndex(type, pagetypeinfo.file, pt.pageblockLine, "pageblocks", count)]! += count;
    for (let o = 0; o < orders; o++) {
      // One capped count (">100000") per order: buddyinfo's total minus the other types is the count.
      const capped = [...pt.freeBlocks.keys()].filter((type) => pt.capped.has(`${type}/${o}`));
      if (capped.length === 1) {
        const k = (MODEL_TYPES as readonly string[]).indexOf(FOLDED_TYPES[capped[0]!] ?? capped[0]!);
        const others = freeByType.reduce((a, row, i) => (i === k ? a : a + row[o]!), 0);
        const filled = b.freeBlocks[o]! - others;
        if (filled > freeByType[k]![o]!) {
          warnings.push({ file: pagetypeinfo.file, line: pt.freeLines.get(capped[0]!)!, message: `zone ${b.zone} ${capped[0]} order ${o}: ${filled} blocks, from ${buddyinfo.file} line ${b.line} (${b.freeBlocks[o]}) minus the other types` });
          freeByType[k]![o] = filled;
        }
      }
      const sum = freeByType.reduce((a, row) => a + row[o]!, 0);
      if (sum !== b.freeBlocks[o]) {
        warnings.push({ file: pagetypeinfo.file, line: pt.freeLines.values().next().value ?? 0, message: `zone ${b.zone} order ${o}: ${sum} free blocks over the types here, ${b.freeBlocks[o]} in ${buddyinfo.file} line ${b.line} (read at another moment?); the layout follows this file` });
      }
    }
    const blocks = pageblocksByType.reduce((a, c) => a + c, 0);
    const span = zonePageblocks(zi, pbo);
    if (blocks > span) throw new SnapshotError(SnapshotErrorCode.Mismatch, pagetypeinfo.file, pt.pageblockLine, `zone ${b.zone} has ${blocks} pageblocks here but spans only ${span} (${zi.spanned} pages from pfn ${zi.startPfn}, ${zoneinfo.file} line ${zi.line})`);
    if (blocks < span) warnings.push({ file: pagetypeinfo.file, line: pt.pageblockLine, message: `zone ${b.zone}: ${blocks} pageblocks counted, the span holds ${span} (offline memory?); the rest are laid out Movable` });
    zones.push({ node: b.node, name: b.zone, label: b.zone, zoneinfo: zi, buddyinfo: b, pagetypeinfo: pt, freeByType, pageblocksByType });
  }
  for (const z of pagetypeinfo.zones) {
    if (!zones.some((x) => x.pagetypeinfo === z)) throw new SnapshotError(SnapshotErrorCode.Mismatch, pagetypeinfo.file, z.pageblockLine, `zone ${z.zone} of node ${z.node} is not in ${buddyinfo.file}`);
  }
  for (const z of zoneinfo.zones) {
    if (z.managed > 0 && !zones.some((x) => x.zoneinfo === z)) throw new SnapshotError(SnapshotErrorCode.Mismatch, zoneinfo.file, z.line, `zone ${z.zone} of node ${z.node} manages ${z.managed} pages but is not in ${buddyinfo.file}`);
  }
  zones.sort((a, b) => a.zoneinfo.startPfn - b.zoneinfo.startPfn);
  if (new Set(zones.map((z) => z.node)).size > 1) for (const z of zones) z.label = `node${z.node} ${z.name}`;
  for (let i = 1; i < zones.length; i++) {
    const prev = zones[i - 1]!.zoneinfo;
    const z = zones[i]!.zoneinfo;
    if (z.startPfn < prev.startPfn + prev.spanned) throw new SnapshotError(SnapshotErrorCode.Mismatch, zoneinfo.file, z.line, `zone ${z.zone} starts at pfn ${z.startPfn}, inside zone ${prev.zone} (line ${prev.line}, pfns ${prev.startPfn}..${prev.startPfn + prev.spanned - 1}); interleaved zones are not modelled`);
  }
  const freeAll = zones.reduce((a, z) => a + z.zoneinfo.free, 0);
  if (vmstat !== undefined) {
    const nr = vmstat.values.get("nr_free_pages")!;
    if (nr !== freeAll) warnings.push({ file: vmstat.file, line: vmstat.lines.get("nr_free_pages")!, message: `nr_free_pages ${nr}, the zones of ${zoneinfo.file} add up to ${freeAll}` });
  }
  let pageSize = 4096;
  if (meminfo !== undefined) {
    const managed = zones.reduce((a, z) => a + z.zoneinfo.managed, 0);
    const total = meminfo.values.get("MemTotal")!;
    const size = managed > 0 ? (total * 1024) / managed : Number.NaN;
    if (Number.isInteger(size) && size >= 512 && (size & (size - 1)) === 0) pageSize = size;
    else warnings.push({ file: meminfo.file, line: meminfo.lines.get("MemTotal")!, message: `MemTotal ${total} kB is not a power-of-two page size times the ${managed} managed pages of ${zoneinfo.file}; assuming 4 KiB pages` });
    const memFree = meminfo.values.get("MemFree")!;
    if (memFree !== (freeAll * pageSize) / 1024) warnings.push({ file: meminfo.file, line: meminfo.lines.get("MemFree")!, message: `MemFree ${memFree} kB, the zones' free pages make ${(freeAll * pageSize) / 1024} kB` });
  } else warnings.push({ file: zoneinfo.file, line: 0, message: "no meminfo beside it: assuming 4 KiB pages" });
  return { snapshot, zones, pageSize, pageblockOrder: pbo, orders, warnings };
}

/**
 * Checks that the "after" snapshot describes the same machine as the "before" one: the same
 * zones with the same start, span and present pages (`ERR_SNAPSHOT_MISMATCH` naming the after
 * file's line otherwise). O(zones).
 *
 * @example
 * ```ts
 * checkSamePlatform(checkSnapshot(before), checkSnapshot(after));
 * ```
 */
export function checkSamePlatform(before: CheckedSnapshot, after: CheckedSnapshot): void {
  const file = after.snapshot.zoneinfo.file;
  for (const b of before.zones) {
    const a = after.zones.find((z) => z.node === b.node && z.name === b.name);
    if (a === undefined) throw new SnapshotError(SnapshotErrorCode.Mismatch, file, 0, `zone ${b.name} of node ${b.node} is in ${before.snapshot.zoneinfo.file} but not here`);
    const x = a.zoneinfo;
    const y = b.zoneinfo;
    if (x.startPfn !== y.startPfn || x.spanned !== y.spanned || x.present !== y.present) {
      throw new SnapshotError(SnapshotErrorCode.Mismatch, file, x.line, `zone ${x.zone} spans ${x.spanned} pages from pfn ${x.startPfn} (${x.present} present) here, ${y.spanned} from ${y.startPfn} (${y.present} present) in ${before.snapshot.zoneinfo.file}: not the same machine`);
    }
  }
  if (after.zones.length !== before.zones.length) throw new SnapshotError(SnapshotErrorCode.Mismatch, file, 0, `${after.zones.length} populated zones here, ${before.zones.length} before: not the same machine`);
  if (after.orders !== before.orders || after.pageblockOrder !== before.pageblockOrder) throw new SnapshotError(SnapshotErrorCode.Mismatch, after.snapshot.pagetypeinfo.file, 0, "another order count or pageblock order than the before snapshot: not the same kernel");
}
