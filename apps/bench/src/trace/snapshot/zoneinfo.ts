import { SnapshotError, SnapshotErrorCode, fileLines, requireCount } from "./errors.js";

/** One CPU's per-CPU page list of a zone, as `pagesets` prints it. */
export interface Pageset {
  cpu: number;
  /** Pages on the CPU's lists: neither free in buddyinfo nor allocated by anyone. */
  count: number;
  high: number;
  batch: number;
}

/** One zone of `/proc/zoneinfo`. */
export interface ZoneinfoZone {
  node: number;
  zone: string;
  /** Line of the `Node n, zone name` header. */
  line: number;
  /** `pages free` (NR_FREE_PAGES: the buddy lists, not the per-CPU lists). */
  free: number;
  min: number;
  low: number;
  high: number;
  spanned: number;
  present: number;
  managed: number;
  /** First pfn of the zone's span; -1 for an empty zone (the kernel prints none). */
  startPfn: number;
  pagesets: Pageset[];
  /** Every other `name value` line of the zone (`nr_free_pages`, `nr_zone_active_anon`...). */
  stats: Map<string, number>;
}

/** A parsed `/proc/zoneinfo`. */
export interface Zoneinfo {
  file: string;
  zones: ZoneinfoZone[];
}

const ZONE_HEADER = /^Node\s+(\d+),\s*zone\s+(\S+)\s*$/;
const REQUIRED = ["free", "min", "low", "high", "spanned", "present", "managed"] as const;

/**
 * Reads `/proc/zoneinfo`: per zone its free pages, watermarks, spanned/present/managed pages,
 * `start_pfn`, the per-CPU `pagesets` (count, high, batch per CPU) and every other counter. The
 * `per-node stats` block is skipped. A populated zone (present > 0) without `managed` (kernels
 * before 3.8) or `start_pfn` is another kernel's format (`ERR_SNAPSHOT_FORMAT`); a line that is not
 * `name value` or a word for a number is `ERR_SNAPSHOT_MALFORMED`; both name the file and line.
 * O(file size).
 *
 * @example
 * ```ts
 * const z = parseZoneinfo(text, "zoneinfo-before.txt").zones.find((z) => z.zone === "DMA32")!;
 * z.startPfn; // 4096 in the 6.1 fixture
 * ```
 */
export function parseZoneinfo(text: string, file: string): Zoneinfo {
  const zones: ZoneinfoZone[] = [];
  let zone: ZoneinfoZone | null = null;
  let seen = new Set<string>();
  let mode: "node-stats" | "zone" | "pagesets" = "zone";
  let pageset: Pageset | null = null;
  const finish = (): void => {
    if (zone === null) return;
    // An empty zone (present 0) is printed short by some kernels: only a populated one must say everything.
    for (const key of REQUIRED) {
      if (!seen.has(key) && (zone.present > 0 || key === "present")) throw new SnapshotError(SnapshotErrorCode.Format, file, zone.line, `zone ${zone.zone} of node ${zone.node} has no "${key === "free" ? "pages free" : key}" line (a kernel before 3.8, or a cut file)`);
    }
    if (zone.present > 0 && zone.startPfn < 0) throw new SnapshotError(SnapshotErrorCode.Format, file, zone.line, `zone ${zone.zone} of node ${zone.node} has ${zone.present} present pages but no "start_pfn:" line`);
    zones.push(zone);
  };
  fileLines(text).forEach((content, i) => {
    const line = i + 1;
    const t = content.trim();
    if (t === "") return;
    const header = ZONE_HEADER.exec(t);
    if (header !== null) {
      finish();
      zone = { node: Number(header[1]), zone: header[2]!, line, free: 0, min: 0, low: 0, high: 0, spanned: 0, present: 0, managed: 0, startPfn: -1, pagesets: [], stats: new Map() };
      seen = new Set();
      mode = "zone";
      pageset = null;
      return;
    }
    if (zone === null) throw new SnapshotError(SnapshotErrorCode.Format, file, line, "line before the first \"Node <n>, zone <name>\" header (not /proc/zoneinfo?)", content);
    const z: ZoneinfoZone = zone;
    if (t === "per-node stats") {
      mode = "node-stats";
      return;
    }
    if (t === "pagesets") {
      mode = "pagesets";
      return;
    }
    let m: RegExpExecArray | null;
    if ((m = /^pages free\s+(\S+)$/.exec(t)) !== null) {
      mode = "zone";
      z.free = requireCount(m[1], "pages free", file, line, content);
      seen.add("free");
      return;
    }
    if (/^protection:/.test(t)) return;
    if ((m = /^start_pfn:\s+(\S+)$/.exec(t)) !== null) {
      z.startPfn = requireCount(m[1], "start_pfn", file, line, content);
      return;
    }
    if (/^(node_unreclaimable|vm stats threshold|all_unreclaimable|prev_priority|inactive_ratio):/.test(t)) return;
    if (mode === "pagesets") {
      if ((m = /^cpu:\s+(\S+)$/.exec(t)) !== null) {
        pageset = { cpu: requireCount(m[1], "cpu", file, line, content), count: 0, high: 0, batch: 0 };
        z.pagesets.push(pageset);
        return;
      }
      if ((m = /^(count|high|batch|high_min|high_max):\s+(\S+)$/.exec(t)) !== null) {
        if (pageset === null) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, `"${m[1]}" before any "cpu:" line in pagesets`, content);
        const v = requireCount(m[2], m[1]!, file, line, content);
        if (m[1] === "count" || m[1] === "high" || m[1] === "batch") pageset[m[1]] = v;
        return;
      }
    }
    m = /^([A-Za-z_][\w()-]*)\s+(\S+)$/.exec(t);
    if (m === null) throw new SnapshotError(SnapshotErrorCode.Malformed, file, line, "not a \"name value\" line", content);
    if (mode === "node-stats") return;
    const key = m[1]!;
    const value = requireCount(m[2], key, file, line, content);
    if (key === "min" || key === "low" || key === "high" || key === "spanned" || key === "present" || key === "managed") {
      z[key] = value;
      seen.add(key);
    } else z.stats.set(key, value);
  });
  finish();
  if (zones.length === 0) throw new SnapshotError(SnapshotErrorCode.Format, file, 0, "no zones (an empty file, or not /proc/zoneinfo)");
  return { file, zones };
}
