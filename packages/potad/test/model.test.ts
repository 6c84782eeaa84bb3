import { MetadataArena, MmkitError } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import fc from "fast-check";
import { expect, test } from "vitest";

// Several small spaces with awkward shapes: bases not aligned to the space's size, addresses above
// 2^32 (the hash's high word), and two spaces that touch (a buddy across the border must not merge).
const SPACES = [
  { base: 0, size: 64 * 512, granule: 512 },
  { base: 32768, size: 8 * 512, granule: 512 }, // touches the first
  { base: 10 * 4096, size: 24 * 4096, granule: 4096 },
  { base: 2 ** 40 + 3 * 1024, size: 37 * 1024, granule: 1024 },
  { base: 200_005, size: 11, granule: 1 },
  // Fronts for orders 3..6 (4 KiB..32 KiB of a 512 B granule), as the bench's memdesc RAM space has.
  { base: 2 ** 20 + 4096, size: 100 * 512, granule: 512, frontOrder: 3 },
];

/** The reference: one cell per granule, 0 when free, else the id of the allocation holding it. */
class Model {
  cells = SPACES.map((s) => new Int32Array(s.size / s.granule));
  live = new Map<number, { space: number; address: number; size: number; descriptor: number }>();

  /** True when the `count` granules from `first` are all free and inside the space. */
  isFree(space: number, first: number, count: number): boolean {
    const cells = this.cells[space]!;
    if (first < 0 || first + count > cells.length) return false;
    for (let i = first; i < first + count; i++) if (cells[i] !== 0) return false;
    return true;
  }

  /** Is there a free window of `size` bytes at an address aligned to `alignment`? */
  hasWindow(space: number, size: number, alignment: number): boolean {
    const { base, granule } = SPACES[space]!;
    const firstAligned = Math.ceil(base / alignment) * alignment;
    for (let a = firstAligned; a + size <= base + SPACES[space]!.size; a += alignment) {
      if (this.isFree(space, (a - base) / granule, size / granule)) return true;
    }
    return false;
  }

  mark(space: number, address: number, size: number, id: number): void {
    const { base, granule } = SPACES[space]!;
    this.cells[space]!.fill(id, (address - base) / granule, (address - base + size) / granule);
  }

  allocatedBytes(space: number): number {
    let n = 0;
    for (const c of this.cells[space]!) if (c !== 0) n++;
    return n * SPACES[space]!.granule;
  }
}

function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

type Op =
  | { kind: "alloc"; space: number; size: number; descriptor: number | null }
  | { kind: "contiguous"; space: number; size: number; alignShift: number }
  | { kind: "free"; pick: number }
  | { kind: "doubleFree"; pick: number }
  | { kind: "freeMiddle"; pick: number }
  | { kind: "lookup"; pick: number; offset: number }
  | { kind: "recycleSpace"; space: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("alloc" as const), space: fc.nat(SPACES.length - 1), size: fc.integer({ min: 1, max: 40_000 }), descriptor: fc.option(fc.nat(1000)) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("contiguous" as const), space: fc.nat(SPACES.length - 1), size: fc.integer({ min: 1, max: 40_000 }), alignShift: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("doubleFree" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("freeMiddle" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("lookup" as const), pick: fc.nat(), offset: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("recycleSpace" as const), space: fc.nat(SPACES.length - 1) }) },
);

function snapshot(potad: Potad, ids: number[]): string {
  return JSON.stringify({ blocks: potad.blockCount, stats: ids.map((id) => potad.stats(id)) });
}

function expectMisuse(potad: Potad, ids: number[], fn: () => unknown, codes: string[]): void {
  const before = snapshot(potad, ids);
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(MmkitError);
  expect(codes).toContain((thrown as MmkitError).code);
  expect(snapshot(potad, ids)).toBe(before);
}

// frontHigh 0 is a plain buddy allocator; 1 and 3 drain the fronts often; 64 is the default.
test("random alloc/contiguous/free/descriptors over several spaces agree with a granule bitmap", () => {
  fc.assert(
    fc.property(fc.constantFrom(0, 1, 3, 64), fc.array(opArb, { minLength: 30, maxLength: 200 }), (frontHigh, ops) => {
      const arena = new MetadataArena();
      const potad = new Potad({ arena, frontHigh });
      const ids = SPACES.map((s) => potad.addSpace(s));
      const model = new Model();
      let nextId = 1;
      const liveList = () => [...model.live.entries()];
      for (const op of ops) {
        switch (op.kind) {
          case "alloc": {
            const spec = SPACES[op.space]!;
            const block = Math.max(pow2AtLeast(op.size), spec.granule);
            const options = op.descriptor === null ? undefined : { descriptor: op.descriptor, descriptorBytes: 360 };
            if (block > spec.size) {
              expectMisuse(potad, ids, () => potad.alloc(ids[op.space]!, op.size, options), ["ERR_OUT_OF_RANGE"]);
              break;
            }
            const address = potad.alloc(ids[op.space]!, op.size, options);
            if (address < 0) {
              expect(model.hasWindow(op.space, block, block)).toBe(false);
              break;
            }
            expect(address % block).toBe(0);
            expect(model.isFree(op.space, (address - spec.base) / spec.granule, block / spec.granule)).toBe(true);
            const id = nextId++;
            model.mark(op.space, address, block, id);
            model.live.set(id, { space: op.space, address, size: block, descriptor: op.descriptor ?? -1 });
            break;
          }
          case "contiguous": {
            const spec = SPACES[op.space]!;
            const alignment = Math.max(spec.granule, pow2AtLeast(op.size) >> op.alignShift);
            const size = Math.ceil(op.size / alignment) * alignment;
            if (alignment >= pow2AtLeast(op.size) || size > spec.size) break;
            const address = potad.alloc(ids[op.space]!, op.size, { alignment, descriptor: nextId });
            if (address < 0) {
              expect(model.hasWindow(op.space, size, alignment)).toBe(false);
              break;
            }
            expect(address % alignment).toBe(0);
            expect(model.isFree(op.space, (address - spec.base) / spec.granule, size / spec.granule)).toBe(true);
            expect(potad.sizeOf(address)).toBe(size);
            const id = nextId++;
            model.mark(op.space, address, size, id);
            model.live.set(id, { space: op.space, address, size, descriptor: id });
            break;
          }
          case "free": {
            const live = liveList();
            if (live.length === 0) break;
            const [id, a] = live[op.pick % live.length]!;
            expect(potad.free(a.address)).toBe(a.descriptor);
            model.mark(a.space, a.address, a.size, 0);
            model.live.delete(id);
            break;
          }
          case "doubleFree": {
            // An address handed out once and not a live allocation's start now.
            const starts = new Set([...model.live.values()].map((a) => a.address));
            const spec = SPACES[op.pick % SPACES.length]!;
            const address = spec.base + (op.pick % (spec.size / spec.granule)) * spec.granule;
            if (starts.has(address)) break;
            expectMisuse(potad, ids, () => potad.free(address), ["ERR_DOUBLE_FREE", "ERR_NOT_ALLOCATED"]);
            break;
          }
          case "freeMiddle": {
            const live = liveList().filter(([, a]) => a.size > SPACES[a.space]!.granule);
            if (live.length === 0) break;
            const [, a] = live[op.pick % live.length]!;
            expectMisuse(potad, ids, () => potad.free(a.address + SPACES[a.space]!.granule), ["ERR_NOT_ALLOCATED"]);
            break;
          }
          case "lookup": {
            const live = liveList();
            if (live.length === 0) break;
            const [, a] = live[op.pick % live.length]!;
            const address = a.address + (op.offset % a.size);
            expect(potad.allocationAt(address)).toBe(a.address);
            expect(potad.descriptorOf(address)).toBe(a.descriptor);
            break;
          }
          case "recycleSpace": {
            const busy = [...model.live.values()].some((a) => a.space === op.space);
            if (busy) {
              expectMisuse(potad, ids, () => potad.removeSpace(ids[op.space]!), ["ERR_INVALID_STATE"]);
            } else {
              potad.removeSpace(ids[op.space]!);
              potad.check();
              ids[op.space] = potad.addSpace(SPACES[op.space]!);
            }
            break;
          }
        }
        potad.check();
        for (let s = 0; s < SPACES.length; s++) {
          const stats = potad.stats(ids[s]!);
          expect(stats.allocatedBytes).toBe(model.allocatedBytes(s));
        }
      }
      // Everything freed and the fronts drained: every space is whole again, as it was when added.
      for (const [, a] of model.live) potad.free(a.address);
      potad.check();
      potad.drain();
      potad.check();
      expect(ids.map((id) => potad.stats(id).cachedBlocks)).toEqual([0, 0, 0, 0, 0, 0]);
      const fresh = new Potad();
      const freshIds = SPACES.map((s) => fresh.addSpace(s));
      expect(ids.map((id) => potad.stats(id).freeBytesByOrder)).toEqual(freshIds.map((id) => fresh.stats(id).freeBytesByOrder));
    }),
    { numRuns: 100 },
  );
});
