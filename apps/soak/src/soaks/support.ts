import { MemoryMap, MmkitError } from "@mmkit/physmem";
import type { Op, SoakInstance } from "../soak.js";

/** A divergence between a subject and its model (what the runner reports). */
export class Divergence extends Error {
  override readonly name = "Divergence";
}

/**
 * Throws a {@link Divergence} unless `actual === expected`.
 *
 * @example
 * ```ts
 * same(buddy.allocatedPageCount(), model.pages, "allocated pages");
 * ```
 */
export function same(actual: unknown, expected: unknown, what: string): void {
  if (actual !== expected && !(Number.isNaN(actual) && Number.isNaN(expected))) throw new Divergence(`${what}: got ${String(actual)}, the model says ${String(expected)}`);
}

/**
 * Throws a {@link Divergence} unless `condition` holds.
 *
 * @example
 * ```ts
 * holds(pfn % 8 === 0, `pfn ${pfn} is not aligned to order 3`);
 * ```
 */
export function holds(condition: boolean, what: string): void {
  if (!condition) throw new Divergence(what);
}

/**
 * A misuse the subject must refuse: `call` must throw a `MmkitError` with one of `codes`, and
 * `state()` (everything observable, as a string) must be the same before and after.
 *
 * @example
 * ```ts
 * refused(() => buddy.freePages(pfn, 0), ["ERR_DOUBLE_FREE"], () => snapshot(buddy), "double free");
 * ```
 */
export function refused(call: () => unknown, codes: readonly string[], state: () => string, what: string): void {
  const before = state();
  let thrown: unknown = null;
  try {
    call();
  } catch (error) {
    thrown = error;
  }
  if (!(thrown instanceof MmkitError)) throw new Divergence(`${what} was not refused with a MmkitError (${thrown === null ? "no error" : String(thrown)})`);
  if (!codes.includes(thrown.code)) throw new Divergence(`${what} was refused with ${thrown.code}, expected ${codes.join(" or ")}: ${thrown.message}`);
  const after = state();
  if (after !== before) throw new Divergence(`${what} was refused but changed the state:\n  before ${before}\n  after  ${after}`);
}

/**
 * Which live allocation holds each page of a machine (0: none), so a page handed out twice, or a
 * free that does not match, is seen at once. One Int32 per page.
 *
 * @example
 * ```ts
 * const owners = new PageOwners(4096);
 * owners.take(8, 8, 1);   // pages 8..15 belong to allocation 1
 * owners.give(8, 8, 1);
 * ```
 */
export class PageOwners {
  readonly #owner: Int32Array;
  /** Pages owned now. */
  owned = 0;

  constructor(pages: number) {
    this.#owner = new Int32Array(pages);
  }

  /** Records pages `[first, first + count)` as held by `id`; a divergence if any is held already or outside the machine. */
  take(first: number, count: number, id: number): void {
    holds(Number.isInteger(first) && first >= 0 && first + count <= this.#owner.length, `pages ${first}..${first + count - 1} are outside the machine (${this.#owner.length} pages)`);
    for (let p = first; p < first + count; p++) holds(this.#owner[p] === 0, `page ${p} handed out while allocation ${this.#owner[p]} holds it`);
    this.#owner.fill(id, first, first + count);
    this.owned += count;
  }

  /** Forgets pages `[first, first + count)` of `id`. */
  give(first: number, count: number, id: number): void {
    for (let p = first; p < first + count; p++) holds(this.#owner[p] === id, `page ${p} freed for allocation ${id} but held by ${this.#owner[p]}`);
    this.#owner.fill(0, first, first + count);
    this.owned -= count;
  }

  owner(pfn: number): number {
    return this.#owner[pfn]!;
  }
}

/**
 * A list of live things with O(1) pick-and-remove by a random word (swap with the last).
 *
 * @example
 * ```ts
 * const live = new LivePicker<[number, number]>();
 * live.add([pfn, order]);
 * const [p, o] = live.take(op.a)!;
 * ```
 */
export class LivePicker<T> {
  readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    this.items.push(item);
  }

  /** The item `word % size` (undefined when empty), left in place. */
  peek(word: number): T | undefined {
    return this.items.length === 0 ? undefined : this.items[word % this.items.length];
  }

  /** Removes and returns the item `word % size` (undefined when empty). */
  take(word: number): T | undefined {
    const n = this.items.length;
    if (n === 0) return undefined;
    const i = word % n;
    const item = this.items[i]!;
    this.items[i] = this.items[n - 1]!;
    this.items.pop();
    return item;
  }

  /** Removes and returns every item. */
  takeAll(): T[] {
    return this.items.splice(0, this.items.length);
  }
}

/** Allocations up to this many bytes get a stamp on every byte; larger ones on their ends and every 61st byte. */
const STAMP_EVERY_BYTE = 512;

/**
 * Writes `stamp` into `bytes`: every byte of a small allocation; the first and last 64 bytes and
 * every 61st byte of a large one (what its owner wrote, so a write by anyone else shows at
 * {@link hasStamp}; the model's unit map finds overlaps at hand-out on its own).
 *
 * @example
 * ```ts
 * fillStamp(heap.u8(p, size), 7);
 * hasStamp(heap.u8(p, size), 7); // true until someone else writes there
 * ```
 */
export function fillStamp(bytes: Uint8Array, stamp: number): void {
  const n = bytes.length;
  if (n <= STAMP_EVERY_BYTE) {
    bytes.fill(stamp);
    return;
  }
  bytes.fill(stamp, 0, 64);
  bytes.fill(stamp, n - 64);
  for (let i = 64; i < n - 64; i += 61) bytes[i] = stamp;
}

/**
 * Whether `bytes` still carry the stamp {@link fillStamp} wrote over `stampedLength` bytes (default
 * `bytes.length`; pass the old length to check what a shrinking realloc kept).
 */
export function hasStamp(bytes: Uint8Array, stamp: number, stampedLength = bytes.length): boolean {
  const n = stampedLength;
  const have = Math.min(n, bytes.length);
  if (n <= STAMP_EVERY_BYTE) {
    for (let i = 0; i < have; i++) if (bytes[i] !== stamp) return false;
    return true;
  }
  for (let i = 0; i < Math.min(64, have); i++) if (bytes[i] !== stamp) return false;
  for (let i = n - 64; i < have; i++) if (bytes[i] !== stamp) return false;
  for (let i = 64; i < Math.min(n - 64, have); i += 61) if (bytes[i] !== stamp) return false;
  return true;
}

/**
 * Whether every byte of `bytes` is 0 (a zeroed allocation), read four bytes at a time where aligned.
 *
 * @example
 * ```ts
 * holds(isZeroed(view), "calloc did not zero");
 * ```
 */
export function isZeroed(bytes: Uint8Array): boolean {
  const n = bytes.length;
  let i = 0;
  const head = (4 - (bytes.byteOffset & 3)) & 3;
  for (; i < Math.min(head, n); i++) if (bytes[i] !== 0) return false;
  const words = (n - i) >>> 2;
  if (words > 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + i, words);
    for (let k = 0; k < words; k++) if (w[k] !== 0) return false;
    i += words * 4;
  }
  for (; i < n; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Pages of {@link twoNodeMap}'s machine. */
export const TWO_NODE_PAGES = 4096;

/**
 * The buddy soaks' machine: two nodes with a hole and ranges not aligned to the max order, as the
 * buddy's own model test has.
 */
export function twoNodeMap(): MemoryMap {
  const ranges: [number, number, number][] = [
    [0, 2000, 0],
    [2048, 3100, 0],
    [3100, TWO_NODE_PAGES, 1],
  ];
  return new MemoryMap({ ranges: ranges.map(([s, e, node]) => ({ base: s * 4096, size: (e - s) * 4096, node })) });
}

/**
 * A `faults` step: the allocator's fail_page_alloc on (10-50 %, every order, seeded by the op) or
 * off, logged with `what` ("fault injection", "page source fault injection").
 */
export function toggleFaults(target: { setFaultInjection(options: { probability: number; minOrder: number; seed: number } | null): void }, op: Op, log: string[] | undefined, what: string): void {
  const on = (op.a & 1) === 0;
  const probability = 10 + (op.b % 41);
  log?.push(on ? `${what} on, ${probability} %` : `${what} off`);
  target.setFaultInjection(on ? { probability, minOrder: 0, seed: op.b } : null);
}

/**
 * What {@link SharedFrontsSoak} needs of a shared allocator whose instances attach to one
 * `SharedArrayBuffer` and claim CPU fronts (SharedBuddy, SharedPotad). `P` is the alloc/free
 * surface the creator's zone-lock path and every front share; blocks are `2^order` units (page
 * frames, granules) named by their first unit.
 */
export interface SharedSoakSubject<P> {
  /** The unit's name in the log ("pfn", "granule"). */
  readonly unit: string;
  readonly cpus: number;
  /** Units of the machine (the owner map's size). */
  readonly units: number;
  /** The creating instance: the zone-lock path, `recoverFrom` and `check`. */
  readonly creator: P & { recoverFrom(owner: number): unknown; check(): void };
  /** A new instance attached to the creator's handle. */
  attach(): { readonly owner: number; detach(): void; claimCpu(cpu: number): P & { drain(): void } };
  /** The order an `alloc` op asks for, from its word. */
  order(word: number): number;
  /** The first unit of a new block of `2^order` units through `path`, or -1 when out of memory. */
  alloc(path: P, order: number): number;
  /** Frees a block through `path`; `word` may pick between ways of saying it (with a size or not). */
  free(path: P, unit: number, order: number, word: number): void;
  /** A second free of a freed block, and the codes that may refuse it. */
  doubleFree(path: P, unit: number, order: number): void;
  readonly doubleFreeCodes: readonly string[];
  /** A free of a live block at order + 1, and the codes that may refuse it. */
  wrongSizeFree(path: P, unit: number, order: number): void;
  readonly wrongSizeCodes: readonly string[];
  /** Everything observable that a refused call must leave as it was. */
  observable(): string;
  /** Units allocated, by the allocator's own count. */
  allocatedUnits(): number;
  /** The checks after every block was freed and every front drained (every unit back, counters even). */
  drained(): void;
}

/** The op kinds of {@link SharedFrontsSoak} (their order fixes the seeds' op streams). */
export const SHARED_FRONTS_KINDS = [
  { name: "alloc", weight: 8 },
  { name: "free", weight: 7 },
  { name: "drain-cpu", weight: 1 },
  { name: "reattach", weight: 1 },
  { name: "misuse", weight: 1 },
] as const;

/**
 * A shared allocator, deterministically: `cpus` instances attached to one `SharedArrayBuffer` in
 * this thread, as that many workers would be, each owning one CPU's front. Blocks are allocated and
 * freed through any front (so they land on another CPU's front) or the zone-lock path; an instance
 * detaches or "dies" (is dropped, and `recoverFrom` its owner id frees its CPU) and a new one
 * attaches and claims the CPU with the blocks still on its front; double and wrong-size frees are
 * refused with nothing changed. Each step is O(2^order) in the owner map plus the allocator's cost.
 *
 * @example
 * ```ts
 * const soak = new SharedFrontsSoak(buddySubject(seed));
 * soak.step({ kind: 0, a: 3, b: 1 }); // alloc order 3 on cpu 0
 * soak.check();
 * ```
 */
export class SharedFrontsSoak<P> implements SoakInstance {
  readonly subject: SharedSoakSubject<P>;
  readonly creator: SharedSoakSubject<P>["creator"];
  readonly instances: ReturnType<SharedSoakSubject<P>["attach"]>[] = [];
  readonly fronts: (P & { drain(): void })[] = [];
  readonly owners: PageOwners;
  readonly live = new LivePicker<[unit: number, order: number, id: number]>();
  readonly freed = new LivePicker<[unit: number, order: number]>();
  #id = 0;

  constructor(subject: SharedSoakSubject<P>) {
    this.subject = subject;
    this.creator = subject.creator;
    this.owners = new PageOwners(subject.units);
    for (let c = 0; c < subject.cpus; c++) this.#attach(c);
  }

  #attach(cpu: number): void {
    const instance = this.subject.attach();
    this.instances[cpu] = instance;
    this.fronts[cpu] = instance.claimCpu(cpu);
  }

  /** A front, or -1: the zone-lock path of the creator. */
  #via(who: number): P {
    return who < 0 ? this.creator : this.fronts[who]!;
  }

  /** Which path an op's word picks: a CPU's front or (-1) the zone lock. */
  #who(word: number): number {
    return (word % (this.subject.cpus + 1)) - 1;
  }

  step(op: Op, log?: string[]): void {
    const s = this.subject;
    const where = (who: number): string => (who >= 0 ? `on cpu ${who}` : "under the zone lock");
    switch (SHARED_FRONTS_KINDS[op.kind]!.name) {
      case "alloc": {
        const order = s.order(op.a);
        const who = this.#who(op.b);
        log?.push(`alloc order ${order} ${where(who)}`);
        const u = s.alloc(this.#via(who), order);
        if (log) log[log.length - 1] += ` -> ${s.unit} ${u}`;
        if (u < 0) return;
        holds(u % 2 ** order === 0, `${s.unit} ${u} is not aligned to order ${order}`);
        const id = ++this.#id;
        this.owners.take(u, 2 ** order, id);
        this.live.add([u, order, id]);
        return;
      }
      case "free": {
        const item = this.live.take(op.a);
        if (item === undefined) return;
        const [u, order, id] = item;
        const who = this.#who(op.b);
        log?.push(`free ${s.unit} ${u} order ${order} ${where(who)}`);
        this.owners.give(u, 2 ** order, id);
        s.free(this.#via(who), u, order, op.b);
        this.freed.add([u, order]);
        if (this.freed.size > 64) this.freed.take(op.b);
        return;
      }
      case "drain-cpu": {
        const cpu = op.a % s.cpus;
        log?.push(`drain cpu ${cpu}`);
        this.fronts[cpu]!.drain();
        return;
      }
      case "reattach": {
        // A worker leaves (detach) or dies (dropped; a survivor recovers its CPU); a new one takes the CPU and its front.
        const cpu = op.a % s.cpus;
        const old = this.instances[cpu]!;
        const dies = (op.b & 1) === 1;
        log?.push(`cpu ${cpu}'s instance ${dies ? "dies" : "detaches"}; a new one attaches`);
        if (dies) same(JSON.stringify(this.creator.recoverFrom(old.owner)), JSON.stringify({ lockBroken: false, cpus: [cpu] }), "what recoverFrom freed");
        else old.detach();
        this.#attach(cpu);
        return;
      }
      case "misuse": {
        const kind = op.a % 2;
        const target = kind === 0 ? this.freed.peek(op.b) : this.live.peek(op.b);
        if (target === undefined) return;
        const [u, order] = target;
        const path = this.#via(this.#who(op.b));
        if (kind === 0) {
          if (this.owners.owner(u) !== 0) return;
          log?.push(`double free of ${s.unit} ${u} order ${order}`);
          refused(() => s.doubleFree(path, u, order), s.doubleFreeCodes, () => s.observable(), `double free of ${s.unit} ${u}`);
        } else {
          log?.push(`free of ${s.unit} ${u} at order ${order + 1} (allocated at ${order})`);
          refused(() => s.wrongSizeFree(path, u, order), s.wrongSizeCodes, () => s.observable(), `free of ${s.unit} ${u} at the wrong size`);
        }
        return;
      }
    }
  }

  check(): void {
    this.creator.check();
    same(this.subject.allocatedUnits(), this.owners.owned, `allocated ${this.subject.unit}s`);
  }

  drain(): void {
    for (const [u, order, id] of this.live.takeAll()) {
      this.owners.give(u, 2 ** order, id);
      this.subject.free(this.creator, u, order, 0);
    }
    for (const front of this.fronts) front.drain();
    this.creator.check();
    this.subject.drained();
  }
}
