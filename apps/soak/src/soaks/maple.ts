import { MapleTree } from "@mmkit/memdesc-lookup";
import type { Op, Soak, SoakInstance } from "../soak.js";
import { holds, refused, same } from "./support.js";

/** The model's indices are BASE + 0 .. U - 1: above 2^32, so the tree's index arithmetic is exercised past 32 bits. */
const BASE = 2 ** 33 + 5;
const U = 8192;

const KINDS = [
  { name: "store", weight: 6 },
  { name: "insert", weight: 3 },
  { name: "erase", weight: 5 },
  { name: "erase-range", weight: 1 },
  { name: "alloc-range", weight: 2 },
  { name: "load", weight: 4 },
  { name: "find", weight: 2 },
] as const;

/**
 * The reference: one id per index (0: empty). A range is a maximal run of one id; ids are fresh per
 * write, and the outer parts of a range cut by a write keep theirs, so two runs of one id are never
 * adjacent. The value stored for a range is its id.
 */
class MapleSoak implements SoakInstance {
  readonly tree = new MapleTree();
  readonly ids = new Int32Array(U);
  #next = 0;

  #fill(first: number, count: number, id: number): void {
    this.ids.fill(id, first, first + count);
  }

  /** The run holding index i (model coordinates). */
  #run(i: number): [number, number] {
    const id = this.ids[i]!;
    let f = i;
    let l = i;
    while (f > 0 && this.ids[f - 1] === id) f--;
    while (l + 1 < U && this.ids[l + 1] === id) l++;
    return [f, l];
  }

  /** A window [first, first + count) inside the universe from two words: mostly short, some long. */
  #window(a: number, b: number): [number, number] {
    const count = b % 8 === 0 ? 1 + (b >>> 3) % 1024 : 1 + (b >>> 3) % 48;
    const first = a % U;
    return [first, Math.min(count, U - first)];
  }

  step(op: Op, log?: string[]): void {
    const t = this.tree;
    switch (KINDS[op.kind]!.name) {
      case "store": {
        const [first, count] = this.#window(op.a, op.b);
        const id = ++this.#next;
        log?.push(`store [${BASE + first}, ${BASE + first + count - 1}] = ${id}`);
        t.store(BASE + first, BASE + first + count - 1, id);
        this.#fill(first, count, id);
        return;
      }
      case "insert": {
        const [first, count] = this.#window(op.a, op.b);
        const id = ++this.#next;
        let empty = true;
        for (let i = first; i < first + count && empty; i++) empty = this.ids[i] === 0;
        log?.push(`insert [${BASE + first}, ${BASE + first + count - 1}] = ${id}`);
        same(t.insert(BASE + first, BASE + first + count - 1, id), empty, `insert of [${BASE + first}, ${BASE + first + count - 1}] (the model says ${empty ? "empty" : "occupied"})`);
        if (empty) this.#fill(first, count, id);
        return;
      }
      case "erase": {
        const i = op.a % U;
        const id = this.ids[i]!;
        log?.push(`erase ${BASE + i}`);
        same(t.erase(BASE + i), id === 0 ? undefined : id, `erase(${BASE + i})`);
        if (id !== 0) {
          const [f, l] = this.#run(i);
          this.#fill(f, l - f + 1, 0);
        }
        return;
      }
      case "erase-range": {
        const [first, count] = this.#window(op.a, op.b);
        let runs = 0;
        for (let i = first; i < first + count; i++) if (this.ids[i] !== 0 && (i === first || this.ids[i - 1] !== this.ids[i])) runs++;
        log?.push(`eraseRange [${BASE + first}, ${BASE + first + count - 1}]`);
        same(t.eraseRange(BASE + first, BASE + first + count - 1), runs, `ranges removed or cut by eraseRange(${BASE + first}, ${BASE + first + count - 1})`);
        this.#fill(first, count, 0);
        return;
      }
      case "alloc-range": {
        const min = op.a % U;
        const max = Math.min(U - 1, min + (op.b % U));
        const size = 1 + ((op.b >>> 13) % 64);
        let expected = -1;
        for (let s = min, run = 0; s <= max; s++) {
          run = this.ids[s] === 0 ? run + 1 : 0;
          if (run === size) {
            expected = s - size + 1;
            break;
          }
        }
        const id = ++this.#next;
        log?.push(`allocRange(${BASE + min}, ${BASE + max}, ${size}) = ${id}`);
        if (max - min + 1 < size) {
          refused(() => t.allocRange(BASE + min, BASE + max, size, id), ["ERR_OUT_OF_RANGE"], () => `${t.size} ${t.nodeBytes}`, `allocRange of ${size} in a window of ${max - min + 1}`);
          return;
        }
        const got = t.allocRange(BASE + min, BASE + max, size, id);
        same(got, expected < 0 ? -1 : BASE + expected, `allocRange(${BASE + min}, ${BASE + max}, ${size})`);
        if (expected >= 0) this.#fill(expected, size, id);
        return;
      }
      case "load": {
        const i = op.a % U;
        const id = this.ids[i]!;
        log?.push(`loadRange ${BASE + i}`);
        const e = t.loadRange(BASE + i);
        if (id === 0) same(e, undefined, `loadRange(${BASE + i})`);
        else {
          const [f, l] = this.#run(i);
          holds(e !== undefined && e.first === BASE + f && e.last === BASE + l && e.value === id, `loadRange(${BASE + i}) is ${JSON.stringify(e)}, the model says [${BASE + f}, ${BASE + l}] = ${id}`);
        }
        return;
      }
      case "find": {
        const i = op.a % U;
        const max = Math.min(U - 1, i + (op.b % 256));
        log?.push(`find(${BASE + i}, ${BASE + max})`);
        const e = t.find(BASE + i, BASE + max);
        let j = i;
        while (j <= max && this.ids[j] === 0) j++;
        if (j > max) same(e, undefined, `find(${BASE + i}, ${BASE + max})`);
        else {
          const [f, l] = this.#run(j);
          holds(e !== undefined && e.first === BASE + f && e.last === BASE + l && e.value === this.ids[j], `find(${BASE + i}, ${BASE + max}) is ${JSON.stringify(e)}, the model says [${BASE + f}, ${BASE + l}] = ${this.ids[j]}`);
        }
        return;
      }
    }
  }

  check(): void {
    this.tree.check();
    // Every range, in order, against the model's runs.
    let i = 0;
    let ranges = 0;
    for (const e of this.tree.entries()) {
      holds(e.first >= BASE && e.last < BASE + U, `range [${e.first}, ${e.last}] is outside the model's indices`);
      while (i < U && this.ids[i] === 0) i++;
      const [f, l] = this.#run(i);
      holds(i < U && e.first === BASE + f && e.last === BASE + l && e.value === this.ids[i], `range #${ranges} is [${e.first}, ${e.last}] = ${e.value}, the model's is [${BASE + f}, ${BASE + l}] = ${this.ids[i]}`);
      i = l + 1;
      ranges++;
    }
    while (i < U && this.ids[i] === 0) i++;
    same(i, U, "first model index past the tree's last range");
    same(this.tree.size, ranges, "tree.size");
  }

  drain(): void {
    const t = this.tree;
    for (let i = 0; i < U; i++) {
      if (this.ids[i] === 0) continue;
      const [f, l] = this.#run(i);
      same(t.erase(BASE + i), this.ids[i], `erase(${BASE + i}) in the final drain`);
      this.#fill(f, l - f + 1, 0);
      i = l;
    }
    t.check();
    same(t.size, 0, "ranges left after the final drain");
    const nodes = t.nodeCount;
    same(nodes.leaves + nodes.inner, 1, "nodes in use after the final drain (an empty tree is one leaf)");
  }
}

/** The maple tree: stores, inserts, erases, range erases, allocRange, loads and finds over 8192 indices above 2^33, against an id per index. */
export const mapleSoak: Soak = {
  name: "maple",
  package: "memdesc-lookup",
  description: "MapleTree: store/insert/erase/eraseRange/allocRange/loadRange/find over 8192 indices above 2^33, against an id per index; every range compared at each check",
  defaultOps: 10_000_000,
  kinds: KINDS,
  create: () => new MapleSoak(),
};
