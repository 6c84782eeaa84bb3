import { MemoryMap, type MmkitError } from "@mmkit/physmem";
import { expect } from "vitest";
import { BuddyAllocator, type BuddyOptions } from "@mmkit/buddy";

export const PAGE = 4096;

/** A map from page ranges [startPfn, endPfn, node]. */
export function pageMap(ranges: [number, number, number?][]): MemoryMap {
  return new MemoryMap({ ranges: ranges.map(([s, e, node]) => ({ base: s * PAGE, size: (e - s) * PAGE, node: node ?? 0 })) });
}

/** Free lists as compact strings: "n0 o3 M: 0,8". */
export function lists(b: BuddyAllocator): string[] {
  const names = ["U", "M", "R", "C", "I"];
  return b.freeLists().map((l) => `n${l.node} o${l.order} ${names[l.migratetype]}: ${l.pfns.join(",")}`);
}

/** Free blocks as sorted "node:order:pfn" strings (migratetype and list order ignored). */
export function blockSet(b: BuddyAllocator): string[] {
  return b
    .freeLists()
    .flatMap((l) => l.pfns.map((p) => `${l.node}:${l.order}:${p}`))
    .sort();
}

/** Everything observable about an allocator, to prove a throwing call changed nothing. */
export function snapshot(b: BuddyAllocator): string {
  const blocks: string[] = [];
  for (const r of b.map.ranges) {
    for (let p = r.startPfn; p < r.endPfn; ) {
      const info = b.blockOf(p);
      blocks.push(`${info.pfn}/${info.order}/${info.state}/${info.migratetype}`);
      p = info.pfn + 2 ** info.order;
    }
  }
  const cpus = Array.from({ length: b.cpus }, (_, i) => b.cpu(i).pages);
  return JSON.stringify({ lists: b.freeLists(), types: b.pagetypeinfo(), counters: b.counters(), cpus, blocks, fault: b.faultInjection });
}

/** Runs `fn`, expects an MmkitError with `code` whose message contains `text`, and that `b` is unchanged. */
export function expectMisuse(b: BuddyAllocator, fn: () => unknown, code: string, text: string): void {
  const before = snapshot(b);
  let error: MmkitError | undefined;
  try {
    fn();
  } catch (e) {
    error = e as MmkitError;
  }
  expect(error, `expected ${code}`).toBeDefined();
  expect(error!.code).toBe(code);
  expect(error!.message).toContain(text);
  expect(snapshot(b)).toBe(before);
  b.check();
}

/** Runs `fn` and returns "CODE: message" of the error it throws, or "no error". */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return `${(e as { code: string }).code}: ${(e as Error).message}`;
  }
  return "no error";
}

export function small(options: BuddyOptions = {}, ranges: [number, number, number?][] = [[0, 64]]): BuddyAllocator {
  return new BuddyAllocator(pageMap(ranges), { maxOrder: 4, minFreeKbytes: 0, defaultMigratetype: 1, ...options });
}
