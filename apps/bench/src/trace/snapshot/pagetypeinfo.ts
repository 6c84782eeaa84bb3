import { SnapshotError, SnapshotErrorCode, fileLines, requireCount, type SnapshotWarning } from "./errors.js";

/** One zone of `/proc/pagetypeinfo`. */
export interface PagetypeinfoZone {
  node: number;
  zone: string;
  /** Free blocks per order for each migratetype name (`Unmovable`, `Movable`, `HighAtomic`...). */
  freeBlocks: Map<string, number[]>;
  /** Line of each type's free-count row. */
  freeLines: Map<string, number>;
  /** Pageblocks of each migratetype name. */
  pageblocks: Map<string, number>;
  /** Line of the zone's pageblock row (0 when the file had none for it). */
  pageblockLine: number;
  /** Counts printed as `>N` (the kernel stopped counting the list), as `type/order` keys. */
  capped: Set<string>;
}

/** A parsed `/proc/pagetypeinfo`. */
export interface Pagetypeinfo {
  file: string;
  pageblockOrder: number;
  /** Orders printed in the free-count table (11 on x86 with 4 KiB pages). */
  orders: number;
  zones: PagetypeinfoZone[];
  /** Counts printed as `>100000` (kernels since 5.10 stop counting a list there): read as the bound, and warned about. */
  warnings: SnapshotWarning[];
}

const FREE_HEADER = /^Free pages count per migrate type at order((?:\s+\d+)+)\s*$/;
const FREE_ROW = /^Node\s+(\d+),\s*zone\s+(\S+?),\s*type\s+(\S+)((?:\s+\S+)+)\s*$/;
const BLOCK_HEADER = /^Number of blocks type((?:\s+\S+)+)\s*$/;
const MIXED_HEADER = /^Number of mixed blocks/;
const BLOCK_ROW = /^Node\s+(\d+),\s*zone\s+(\S+)((?:\s+\S+)+)\s*$/;

/**
 * Reads `/proc/pagetypeinfo`: the pageblock order, free blocks per zone, migratetype and order,
 * and pageblocks per zone and migratetype. Type names are taken from the file (kernels differ:
 * `Reserve` before 4.4, `HighAtomic` after, `CMA` when configured), so any era's columns are read
 * by name. The `Number of mixed blocks` section (page_owner) is skipped. A file without the
 * `Page block order:` header or without the free-count table is another format
 * (`ERR_SNAPSHOT_FORMAT`); a row of the wrong width or a word for a count is
 * `ERR_SNAPSHOT_MALFORMED`; both name the file and line. O(file size).
 *
 * @example
 * ```ts
 * const info = parsePagetypeinfo(readFileSync("pagetypeinfo-before.txt", "utf8"), "pagetypeinfo-before.txt");
 * info.zones[1].pageblocks.get("Unmovable"); // 57 for the 6.1 fixture's DMA32
 * ```
 */
export function parsePagetypeinfo(text: string, file: string): Pagetypeinfo {
  const lines = fileLines(text);
  let pageblockOrder = -1;
  let orders = -1;
  let blockTypes: string[] | null = null;
  let section: "head" | "free" | "blocks" | "skip" = "head";
  const zones: PagetypeinfoZone[] = [];
  const warnings: SnapshotWarning[] = [];
  const zoneOf = (node: number, name: string): PagetypeinfoZone => {
    let z = zones.find((x) => x.node === node && x.zone === name);
    if (z === undefined) {
      z = { node, zone: name, freeBlocks: new Map(), freeLines: new Map(), pageblocks: new Map(), pageblockLine: 0, capped: new Set() };
      zones.push(z);
    }
    return z;
  };
  lines.forEach((content, i) => {
    const line = i + 1;
    const t = content.trim();
    if (t === "") return;
    let m: RegExpExecArray | null;
    if ((m = /^Page block order:\s*(\S+)$/.exec(t)) !== null) {
      pageblockOrder = requireCount(m[1], "page block order", file, line, content);
      return;
    }
    if (/^Pages per block:/.test(t)) {
      const pages = requireCount(/^Pages per block:\s*(\S+)$/.exec(t)?.[1], "pages per block", file, line, content);
      if (pageblockOrder >= 0 && pages !== 2 ** pageblockOrder) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `pages per block ${pages} is not 2^${pageblockOrder}`, content);
      return;
    }
    if ((m = FREE_HEADER.exec(t)) !== null) {
      orders = m[1]!.trim().split(/\s+/).length;
      section = "free";
      return;
    }
    if ((m = BLOCK_HEADER.exec(t)) !== null) {
      blockTypes = m[1]!.trim().split(/\s+/);
      section = "blocks";
      return;
    }
    if (MIXED_HEADER.test(t)) {
      section = "skip";
      return;
    }
    if (section === "skip") return;
    if (section === "free") {
      m = FREE_ROW.exec(t);
      if (m === null) throw new SnapshotError(SnapshotErrorCode.Format, file, line, "not a free-count row (expected \"Node <n>, zone <name>, type <type> <counts>\")", content);
      const cols = m[4]!.trim().split(/\s+/);
      if (cols.length !== orders) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `${cols.length} counts, the header names ${orders} orders`, content);
      const type = m[3]!;
      const z = zoneOf(Number(m[1]), m[2]!);
      const counts = cols.map((c, o) => {
        if (c.startsWith(">")) {
          // Since 5.10 the kernel stops counting a list at 100000 blocks and prints ">100000".
          warnings.push({ file, line, message: `${type} order ${o} printed as ${c}: the kernel stopped counting that list; read as at least ${c.slice(1)} (buddyinfo fills it in when it can)` });
          z.capped.add(`${type}/${o}`);
          return requireCount(c.slice(1), `order-${o} count`, file, line, content);
        }
        return requireCount(c, `order-${o} count`, file, line, content);
      });
      if (z.freeBlocks.has(type)) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `type ${type} of zone ${z.zone} appears twice`, content);
      z.freeBlocks.set(type, counts);
      z.freeLines.set(type, line);
      return;
    }
    if (section === "blocks") {
      m = BLOCK_ROW.exec(t);
      if (m === null) throw new SnapshotError(SnapshotErrorCode.Format, file, line, "not a pageblock row (expected \"Node <n>, zone <name> <count per type>\")", content);
      const cols = m[3]!.trim().split(/\s+/);
      if (cols.length !== blockTypes!.length) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `${cols.length} counts, the header names ${blockTypes!.length} types`, content);
      const z = zoneOf(Number(m[1]), m[2]!);
      blockTypes!.forEach((type, k) => z.pageblocks.set(type, requireCount(cols[k], `${type} pageblocks`, file, line, content)));
      z.pageblockLine = line;
      return;
    }
    throw new SnapshotError(SnapshotErrorCode.Format, file, line, "unexpected line before the free-count table (not /proc/pagetypeinfo as Linux 2.6.24+ prints it?)", content);
  });
  if (pageblockOrder < 0) throw new SnapshotError(SnapshotErrorCode.Format, file, 0, "no \"Page block order:\" line: not /proc/pagetypeinfo, or a kernel format this reader does not know");
  if (orders < 0) throw new SnapshotError(SnapshotErrorCode.Format, file, 0, "no \"Free pages count per migrate type\" table");
  if (blockTypes === null) throw new SnapshotError(SnapshotErrorCode.Format, file, 0, "no \"Number of blocks type\" table");
  for (const z of zones) if (z.pageblockLine === 0) throw new SnapshotError(SnapshotErrorCode.Malformed, file, 0, `zone ${z.zone} of node ${z.node} has free counts but no pageblock row (cut file?)`);
  return { file, pageblockOrder, orders, zones, warnings };
}
