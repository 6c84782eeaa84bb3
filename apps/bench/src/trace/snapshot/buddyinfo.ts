import { SnapshotError, SnapshotErrorCode, fileLines, requireCount } from "./errors.js";

/** One line of `/proc/buddyinfo`: free blocks per order of one zone. */
export interface BuddyinfoZone {
  node: number;
  /** Zone name as printed: `DMA`, `DMA32`, `Normal`, `Movable`... */
  zone: string;
  /** `freeBlocks[o]`: free blocks of order o (per-CPU pages are not in it). */
  freeBlocks: number[];
  /** 1-based line in the file. */
  line: number;
}

/** A parsed `/proc/buddyinfo`. */
export interface Buddyinfo {
  file: string;
  zones: BuddyinfoZone[];
}

const LINE = /^Node\s+(\d+),\s*zone\s+(\S+)((?:\s+\S+)*)\s*$/;

/**
 * Reads `/proc/buddyinfo` (`Node 0, zone    DMA32      3      1 ...`). Every line must be a zone
 * line, every zone must print the same number of orders (11 on x86 with 4 KiB pages; other page
 * sizes and `CONFIG_ARCH_FORCE_MAX_ORDER` print another count, which is read as given). An empty
 * file, a line of another shape, a count that is not a number, or zones that disagree on the number
 * of orders throw {@link SnapshotError} naming the file and line. O(file size).
 *
 * @example
 * ```ts
 * const info = parseBuddyinfo("Node 0, zone   Normal    5    0    1\n", "buddyinfo");
 * info.zones[0].freeBlocks; // [5, 0, 1]
 * ```
 */
export function parseBuddyinfo(text: string, file: string): Buddyinfo {
  const zones: BuddyinfoZone[] = [];
  const lines = fileLines(text);
  lines.forEach((content, i) => {
    const line = i + 1;
    if (content.trim() === "") return;
    const m = LINE.exec(content);
    if (m === null) throw new SnapshotError(SnapshotErrorCode.Format, file, line, "not a /proc/buddyinfo line (expected \"Node <n>, zone <name> <count per order>...\")", content);
    const cols = m[3]!.trim().split(/\s+/).filter((c) => c !== "");
    if (cols.length === 0) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, "zone line has no free-block counts", content);
    const freeBlocks = cols.map((c, o) => requireCount(c, `order-${o} count`, file, line, content));
    if (zones.length > 0 && freeBlocks.length !== zones[0]!.freeBlocks.length) {
      throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `${freeBlocks.length} orders, but line ${zones[0]!.line} has ${zones[0]!.freeBlocks.length} (cut line?)`, content);
    }
    zones.push({ node: Number(m[1]), zone: m[2]!.replace(/,$/, ""), freeBlocks, line });
  });
  if (zones.length === 0) throw new SnapshotError(SnapshotErrorCode.Format, file, 0, "no zone lines (an empty file, or not /proc/buddyinfo)");
  return { file, zones };
}

/**
 * Free pages of a buddyinfo zone: sum of blocks x 2^order. O(orders).
 *
 * @example
 * ```ts
 * buddyinfoFreePages({ freeBlocks: [3, 1, 0, 2] }); // 3 + 2 + 16 = 21
 * ```
 */
export function buddyinfoFreePages(zone: { freeBlocks: readonly number[] }): number {
  return zone.freeBlocks.reduce((sum, n, o) => sum + n * 2 ** o, 0);
}
