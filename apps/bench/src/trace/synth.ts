import { SeededRandom } from "../workloads/random.js";

/**
 * A generator of realistic synthetic page-allocator traces in Linux 6.1 ftrace text, shaped after the
 * Linux 6.1 fixture (fixtures/traces/linux-6.1-small): the same order mix (97.2 % order 0, 2.7 %
 * order 1, a few order 2, 3 and 9), short lifetimes around a live set that swells and shrinks by
 * phase, ~4 % frees of pages allocated before the capture, 90 % of order-0 frees followed by their
 * `mm_page_free_batched` annotation, per-CPU refills as `mm_page_alloc_zone_locked` runs, events
 * spread over CPUs in runs (a task stays on its CPU for a while), a few frees never traced (so a
 * pfn is allocated again while the trace still holds it) and `PHASE` markers. Text is written
 * straight into byte chunks, so it can feed a replay of any length without a file.
 *
 * Memory: O(live allocations); the text exists one chunk at a time.
 *
 * @example
 * ```ts
 * const synth = new SyntheticTrace({ events: 1_000_000, cpus: 4, seed: 42 });
 * for (const chunk of synth.chunks()) chunkParser.feed(chunk, batch);
 * ```
 */
export class SyntheticTrace {
  readonly events: number;
  readonly cpus: number;
  readonly #rng: SeededRandom;
  readonly #chunkBytes: number;

  constructor(options: { events: number; cpus?: number; seed?: number; chunkBytes?: number }) {
    const { events, cpus = 4, seed = 1, chunkBytes = 1 << 20 } = options;
    if (!Number.isSafeInteger(events) || events < 0) throw new RangeError(`events must be a non-negative integer, got ${String(events)}`);
    if (!Number.isSafeInteger(cpus) || cpus < 1 || cpus > 999) throw new RangeError(`cpus must be an integer in [1, 999], got ${String(cpus)}`);
    this.events = events;
    this.cpus = cpus;
    this.#rng = new SeededRandom(seed >>> 0, "synthetic trace");
    this.#chunkBytes = Math.max(4096, chunkBytes);
  }

  /** The trace as chunks of text (each ends with a newline), header first. */
  *chunks(): Generator<Buffer, void, undefined> {
    const w = new Writer(this.#chunkBytes);
    const rng = this.#rng;
    w.text(`# tracer: nop\n#\n# entries-in-buffer/entries-written: ${this.events}/${this.events}   #P:${this.cpus}\n#\n`);
    w.text("#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n#              | |         |   |||||     |         |\n");
    const live = new LiveSet();
    const space = new PfnSpace(0x1000, 1 << 22);
    let time = 3_000_000; // microseconds
    let cpu = 0;
    let runLeft = 0;
    let task = 0;
    let phase = 0;
    const phaseEvery = Math.max(1000, Math.floor(this.events / 12));
    let done = 0;
    // Pages from before the capture that the trace may free (never allocated in it).
    let oldPfn = 0x100000;
    while (done < this.events) {
      if (w.length >= this.#chunkBytes - 1024) yield w.take();
      if (runLeft === 0) {
        cpu = rng.below(this.cpus);
        task = rng.below(TASKS.length);
        runLeft = 20 + rng.below(200);
      }
      runLeft--;
      time += 1 + rng.below(24);
      if (done % phaseEvery === 0) {
        w.line(task, cpu, time, `tracing_mark_write: PHASE ${PHASES[phase++ % PHASES.length]}`);
        done++;
        continue;
      }
      // The live set swells and shrinks with the phase: a target between 1k and ~40k pages.
      const target = 1000 + (phase % 3) * 12_000 + ((done * 7) % 9000);
      const r = rng.float();
      if (live.pages < target ? r < 0.56 : r < 0.44) {
        const order = pickOrder(rng.float());
        if (order === 0 && rng.float() < 0.22 && done + 2 < this.events) {
          // A per-CPU refill taking pages from the buddy lists under the zone lock.
          const n = Math.min(1 + rng.below(4), this.events - done - 1);
          for (let i = 0; i < n; i++) w.pageEvent(task, cpu, time, EV_ZONE_LOCKED, 0x4000 + rng.below(1 << 18), 0, TAIL_REFILL);
          done += n;
        }
        let pfn = space.alloc(order);
        if (pfn < 0) {
          // The space is full: free the oldest-looking allocation first.
          const [p, o] = live.take(0);
          space.free(p, o);
          pfn = space.alloc(order);
        }
        live.add(pfn, order);
        w.pageEvent(task, cpu, time, EV_ALLOC, pfn, order, order === 0 ? TAIL_USER : TAIL_KERNEL);
        done++;
        continue;
      }
      if (live.count === 0 || rng.float() < 0.04) {
        // A page allocated before the capture.
        w.pageEvent(task, cpu, time, EV_FREE, oldPfn++, 0, null);
        done++;
        continue;
      }
      // Mostly recent allocations die first (short lifetimes), a few old ones.
      const u = rng.float();
      const index = live.count - 1 - Math.floor(live.count * u * u * u);
      const [pfn, order] = live.take(index);
      space.free(pfn, order);
      if (rng.float() < 0.0005) continue; // a free the trace missed: the pfn comes back while still live
      w.pageEvent(task, cpu, time, EV_FREE, pfn, order, null);
      done++;
      if (order === 0 && rng.float() < 0.9 && done < this.events) {
        w.pageEvent(task, cpu, time, EV_FREE_BATCHED, pfn, 0, null);
        done++;
      }
    }
    if (w.length > 0) yield w.take();
  }
}

const TASKS = ["init-1", "cat-155", "kworker/0:1-23", "sh-102", "awk-311", "dd-287", "sort-204", "ls-166"];
const PHASES = ["small-procs", "small-files", "small-dd", "small-awk", "small-drop", "big-churn"];

/** The fixture's order mix: 12267 / 341 / 7 / 1 / 0 ... / 1 (order 9) of 12617 allocations. */
function pickOrder(u: number): number {
  if (u < 0.9723) return 0;
  if (u < 0.9993) return 1;
  if (u < 0.99985) return 2;
  if (u < 0.99993) return 3;
  return 9;
}

/** Live allocations as two parallel arrays; removal swaps with the last. */
class LiveSet {
  pfn = new Float64Array(1024);
  order = new Uint8Array(1024);
  count = 0;
  pages = 0;
  add(pfn: number, order: number): void {
    if (this.count === this.pfn.length) {
      const p = new Float64Array(this.count * 2);
      p.set(this.pfn);
      this.pfn = p;
      const o = new Uint8Array(this.count * 2);
      o.set(this.order);
      this.order = o;
    }
    this.pfn[this.count] = pfn;
    this.order[this.count++] = order;
    this.pages += 2 ** order;
  }
  take(i: number): [number, number] {
    const pfn = this.pfn[i]!;
    const order = this.order[i]!;
    const last = --this.count;
    this.pfn[i] = this.pfn[last]!;
    this.order[i] = this.order[last]!;
    this.pages -= 2 ** order;
    return [pfn, order];
  }
}

/** Aligned pfns for the trace: per-order free stacks over a bump pointer (a trace needs realistic pfns, not a real allocator). */
class PfnSpace {
  readonly #free: number[][] = Array.from({ length: 11 }, () => []);
  #top: number;
  constructor(base: number, readonly end: number) {
    this.#top = base;
  }
  alloc(order: number): number {
    const reused = this.#free[order]!.pop();
    if (reused !== undefined) return reused;
    const size = 2 ** order;
    const pfn = Math.ceil(this.#top / size) * size;
    if (pfn + size > this.end) return -1;
    this.#top = pfn + size;
    return pfn;
  }
  free(pfn: number, order: number): void {
    this.#free[order]!.push(pfn);
  }
}


/** Writes trace lines into a byte buffer, formatting numbers digit by digit (no strings per line). */
/** The page events the generator writes: flags column and event name, by index. */
const EVENTS = [
  [".....", "mm_page_alloc"],
  ["...1.", "mm_page_free"],
  ["...2.", "mm_page_free_batched"],
  ["d..3.", "mm_page_alloc_zone_locked"],
] as const;
const EV_ALLOC = 0;
const EV_FREE = 1;
const EV_FREE_BATCHED = 2;
const EV_ZONE_LOCKED = 3;
const TAIL_USER = Buffer.from(" migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE|__GFP_COMP", "latin1");
const TAIL_KERNEL = Buffer.from(" migratetype=0 gfp_flags=GFP_KERNEL_ACCOUNT|__GFP_ZERO|__GFP_COMP", "latin1");
const TAIL_REFILL = Buffer.from(" migratetype=0 percpu_refill=1", "latin1");
const PFN_0X = Buffer.from(" pfn=0x", "latin1");
const ORDER_EQ = Buffer.from(" order=", "latin1");
const HEX = new Uint8Array(Buffer.from("0123456789abcdef", "latin1"));

/** Writes trace lines into a byte buffer, formatting numbers digit by digit (no strings per line). */
class Writer {
  #buf: Buffer;
  length = 0;
  /** `<task> [<cpu>] <flags> ` by (cpu, task, event); built once each. */
  readonly #heads: (Buffer | undefined)[] = [];
  /** `<event>: page=` by event. */
  readonly #names = EVENTS.map(([, name]) => Buffer.from(`${name}: page=`, "latin1"));
  readonly #digits = new Uint8Array(16);
  constructor(readonly capacity: number) {
    this.#buf = Buffer.allocUnsafe(capacity + 4096);
  }
  take(): Buffer {
    const out = this.#buf.subarray(0, this.length);
    this.#buf = Buffer.allocUnsafe(this.capacity + 4096);
    this.length = 0;
    return out;
  }
  text(s: string): void {
    this.length += this.#buf.write(s, this.length, "latin1");
  }
  #put(b: Uint8Array): void {
    const buf = this.#buf;
    let at = this.length;
    for (let i = 0; i < b.length; i++) buf[at++] = b[i]!;
    this.length = at;
  }
  /** `<task> [<cpu>] <flags> <secs>.<usecs>: ` */
  #head(task: number, cpu: number, micros: number, event: number): void {
    const slot = (cpu * TASKS.length + task) * EVENTS.length + event;
    let head = this.#heads[slot];
    if (head === undefined) this.#heads[slot] = head = Buffer.from(`${TASKS[task]!.padStart(16)}${" ".repeat(6)}[${String(cpu).padStart(3, "0")}] ${EVENTS[event]![0]} `, "latin1");
    this.#put(head);
    const buf = this.#buf;
    let secs = Math.floor(micros / 1e6);
    let us = micros - secs * 1e6;
    // Seconds right-aligned in 5 columns, then 6 digits of microseconds.
    const at = this.length;
    for (let i = 4; i >= 0; i--) {
      buf[at + i] = secs === 0 && i < 4 ? 32 : 48 + (secs % 10);
      secs = Math.floor(secs / 10);
    }
    buf[at + 5] = 46;
    for (let i = 11; i >= 6; i--) {
      buf[at + i] = 48 + (us % 10);
      us = Math.floor(us / 10);
    }
    buf[at + 12] = 58;
    buf[at + 13] = 32;
    this.length = at + 14;
  }
  line(task: number, cpu: number, micros: number, rest: string): void {
    this.#head(task, cpu, micros, EV_ALLOC);
    this.text(rest);
    this.#buf[this.length++] = 10;
  }
  pageEvent(task: number, cpu: number, micros: number, event: number, pfn: number, order: number, tail: Uint8Array | null): void {
    this.#head(task, cpu, micros, event);
    this.#put(this.#names[event]!);
    const buf = this.#buf;
    let at = this.length;
    // A hashed page pointer, 16 hex digits, never all zeroes.
    const h = (Math.imul(pfn ^ 0x5bd1e995, 0x9e3779b1) >>> 0) | 1;
    for (let i = 0; i < 8; i++) buf[at++] = 48;
    for (let sh = 28; sh >= 0; sh -= 4) buf[at++] = HEX[(h >>> sh) & 15]!;
    this.length = at;
    this.#put(PFN_0X);
    at = this.length;
    // The pfn in hex (pfns here stay below 2^32).
    let n = 0;
    let v = pfn >>> 0;
    do {
      this.#digits[n++] = HEX[v & 15]!;
      v >>>= 4;
    } while (v > 0);
    while (n > 0) buf[at++] = this.#digits[--n]!;
    this.length = at;
    this.#put(ORDER_EQ);
    at = this.length;
    if (order >= 10) buf[at++] = 48 + Math.floor(order / 10);
    buf[at++] = 48 + (order % 10);
    this.length = at;
    if (tail !== null) this.#put(tail);
    buf[this.length++] = 10;
  }
}
