import { expect } from "vitest";
import { MmkitError } from "@mmkit/physmem";
import type { ShrinkControl, Shrinker } from "@mmkit/shrinker";

/** One recorded `scan` call. */
export interface ScanCall {
  nid: number;
  priority: number;
  nrToScan: number;
}

/**
 * A shrinker over a fixed number of objects per node that records every call. `freeing` makes
 * scans free what they are asked (the count drops); otherwise objects are scanned but never freed
 * (all still referenced), so the count stays put and the arithmetic is easy to follow.
 */
export class FakeCache implements Shrinker {
  readonly name: string;
  readonly seeks?: number;
  readonly batch?: number;
  readonly numaAware?: boolean;
  objects: number[];
  calls: ScanCall[] = [];
  counts = 0;
  freeing: boolean;
  /** Hook run at the start of every scan (re-entrancy tests). */
  onScan?: (sc: ShrinkControl) => void;
  onCount?: (sc: ShrinkControl) => void;

  constructor(name: string, objects: number | number[], options: { seeks?: number; batch?: number; numaAware?: boolean; freeing?: boolean } = {}) {
    this.name = name;
    this.objects = typeof objects === "number" ? [objects] : objects.slice();
    if (options.seeks !== undefined) this.seeks = options.seeks;
    if (options.batch !== undefined) this.batch = options.batch;
    if (options.numaAware !== undefined) this.numaAware = options.numaAware;
    this.freeing = options.freeing ?? true;
  }

  count(sc: ShrinkControl): number {
    this.counts++;
    this.onCount?.(sc);
    return this.objects[sc.nid] ?? 0;
  }

  scan(sc: ShrinkControl): number {
    this.calls.push({ nid: sc.nid, priority: sc.priority, nrToScan: sc.nrToScan });
    this.onScan?.(sc);
    if (!this.freeing) return 0;
    const n = Math.min(sc.nrToScan, this.objects[sc.nid] ?? 0);
    this.objects[sc.nid] = (this.objects[sc.nid] ?? 0) - n;
    return n;
  }

  /** nrToScan of every call so far, then forget them. */
  takeBatches(): number[] {
    const out = this.calls.map((c) => c.nrToScan);
    this.calls = [];
    return out;
  }
}

/** Asserts `fn` throws an MmkitError with `code` whose message contains every one of `mentions`. */
export function expectMmkitError(fn: () => unknown, code: string, ...mentions: string[]): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(MmkitError);
  const err = thrown as MmkitError;
  expect(err.code).toBe(code);
  for (const m of mentions) expect(err.message).toContain(m);
}
