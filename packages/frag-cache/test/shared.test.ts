import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { MmkitError, describeValue } from "@mmkit/physmem";
import { FragmentCache, POISON_BYTE, SharedFragmentCache, SharedFragmentTable, type FragmentBacking, type PoisonReport } from "@mmkit/frag-cache";
import { HOSTILE_VALUES, expectMmkitError } from "@mmkit/test-support";
import { FakePageSource } from "./fake-page-source.js";
import { SharedPageSource } from "./shared-page-source.js";

type Op =
  | { kind: "alloc"; who: number; size: number; alignLog: number }
  | { kind: "free"; who: number; pick: number }
  | { kind: "drain"; who: number }
  | { kind: "fail3"; on: boolean };

const sizeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(64, 576, 1500) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 4096 }) },
  { weight: 1, arbitrary: fc.integer({ min: 4097, max: 32768 }) },
);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant("alloc" as const), who: fc.nat(1), size: sizeArb, alignLog: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 13 })) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("free" as const), who: fc.nat(1), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("drain" as const), who: fc.nat(1) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("fail3" as const), on: fc.boolean() }) },
);

/** Bytes over one SharedArrayBuffer, as every worker would see them. */
function sharedBacking(pages: number): FragmentBacking & { buffer: Uint8Array } {
  const buffer = new Uint8Array(new SharedArrayBuffer(pages * 4096));
  return { buffer, bytes: (address, length) => buffer.subarray(address, address + length) };
}

function biases(...caches: SharedFragmentCache[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const c of caches) {
    const b = c.currentBlock();
    if (b) m.set(b.pfn, b.bias);
  }
  return m;
}

describe("SharedFragmentCache in one thread", () => {
  test("carves exactly as FragmentCache does: same addresses, same page-source calls, same counters", () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const plainSource = new FakePageSource(48);
        const sharedSource = new FakePageSource(48);
        const plain = new FragmentCache(plainSource);
        const shared = new SharedFragmentCache(SharedFragmentTable.create({ pages: 48 }), sharedSource);
        const live: number[] = [];
        for (const op of ops) {
          if (op.kind === "alloc") {
            const a = plain.alloc(op.size, 2 ** op.alignLog);
            expect(shared.alloc(op.size, 2 ** op.alignLog)).toBe(a);
            if (a !== -1) live.push(a);
          } else if (op.kind === "free") {
            if (live.length === 0) continue;
            const [a] = live.splice(op.pick % live.length, 1);
            plain.free(a!);
            shared.free(a!);
          } else if (op.kind === "drain") {
            plain.drain();
            shared.drain();
          } else {
            for (const s of [plainSource, sharedSource]) (op.on ? s.failing.add(3) : s.failing.delete(3));
          }
          shared.check();
          const p = plain.stats();
          const s = shared.stats();
          expect([s.blocksTaken, s.blocksRecycled, s.blocksReturned, s.fallbacks, s.allocFailures, s.fragmentsAllocated, s.bytesWastedAlignment]).toEqual([
            p.blocksTaken, p.blocksRecycled, p.blocksReturned, p.fallbacks, p.allocFailures, p.fragmentsAllocated, p.bytesWastedAlignment,
          ]);
          const cur = plain.currentBlock();
          expect(shared.currentBlock()).toEqual(cur === null ? null : { pfn: cur.pfn, order: cur.order, bias: cur.bias, offset: cur.offset, size: cur.size });
        }
        expect(sharedSource.log).toEqual(plainSource.log);
      }),
      { numRuns: 60 },
    );
  });

  test("a fixed sequence: bias, recycle in place after the other cache's last free, return by the last freer", () => {
    const table = SharedFragmentTable.create({ pages: 64 });
    const source = new FakePageSource(64);
    const producer = new SharedFragmentCache(table, source);
    const consumer = new SharedFragmentCache(table, source);
    const a = producer.alloc(1500);
    const b = producer.alloc(64, 64);
    expect([a, b]).toEqual([0, 1536]);
    expect(table.refs[0]).toBe(32769);
    expect(producer.currentBlock()).toEqual({ pfn: 0, order: 3, bias: 32767, offset: 1600, size: 32768 });
    consumer.free(a);
    consumer.free(b);
    expect(table.refs[0]).toBe(32767); // only the bias is left: every fragment freed elsewhere
    table.check(biases(producer, consumer));
    expect(producer.alloc(32000)).toBe(0); // does not fit: the bias drops the count to zero, the block is recycled in place
    expect(producer.stats()).toMatchObject({ blocksTaken: 1, blocksRecycled: 1, blocksReturned: 0 });
    expect(source.log).toEqual(["alloc 3", "-> 0"]);
    const c = producer.alloc(1000); // no room left: the block is retired with one fragment live
    expect(c).toBe(32768);
    expect(producer.currentBlock()!.pfn).toBe(8);
    expect(table.refs[0]).toBe(1);
    consumer.free(0);
    expect(table.heads[0]).toBe(0);
    expect(consumer.stats()).toMatchObject({ fragmentsFreed: 3, blocksReturned: 1 });
    expect(source.log).toEqual(["alloc 3", "-> 0", "alloc 3", "-> 8", "free 0 3"]);
    expect(table.check(biases(producer))).toBe(1);
  });

  test("model: two caches, frees from either, zero/clear/poison promises, nothing lost or freed twice", () => {
    for (const mode of ["clear", "poison"] as const) {
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 100 }), (ops) => {
          const source = new SharedPageSource(48);
          const backing = sharedBacking(48);
          const table = SharedFragmentTable.create({ pages: 48 });
          const reports: PoisonReport[] = [];
          const options = { backing, zeroOnAlloc: true, clearOnFree: mode === "clear", poison: mode === "poison", onPoison: (r: PoisonReport) => reports.push(r) };
          const caches = [new SharedFragmentCache(table, source, options), new SharedFragmentCache(table, source, options)];
          const live = new Map<number, number>();
          let stamp = 0;
          for (const op of ops) {
            if (op.kind === "alloc") {
              const align = 2 ** op.alignLog;
              const a = caches[op.who]!.alloc(op.size, align);
              if (a === -1) continue;
              const size = Math.ceil(op.size / 16) * 16;
              expect(a % align).toBe(0);
              for (const [b, n] of live) expect(a + size <= b || b + n <= a).toBe(true);
              expect(backing.bytes(a, size).every((x) => x === 0)).toBe(true);
              backing.bytes(a, size).fill(++stamp & 0x7f);
              live.set(a, size);
            } else if (op.kind === "free") {
              if (live.size === 0) continue;
              const keys = [...live.keys()];
              const a = keys[op.pick % keys.length]!;
              caches[op.who]!.free(a);
              const bytes = backing.bytes(a, live.get(a)!);
              live.delete(a);
              if (table.heads[Math.floor(a / 4096)] !== 0) expect(bytes.every((x) => x === (mode === "poison" ? POISON_BYTE : 0))).toBe(true);
              const before = table.refs.slice();
              expectMmkitError(() => caches[1 - op.who]!.free(a), "ERR_NOT_ALLOCATED", String(a));
              expect(table.refs).toEqual(before);
            } else if (op.kind === "drain") caches[op.who]!.drain();
            table.check(biases(...caches));
          }
          for (const a of live.keys()) caches[a & 1]!.free(a);
          for (const c of caches) c.drain();
          expect(table.check()).toBe(0);
          expect(source.outstanding).toBe(0);
          expect(reports).toEqual([]);
          const total = caches[0]!.stats().blocksTaken + caches[1]!.stats().blocksTaken;
          expect(caches[0]!.stats().blocksReturned + caches[1]!.stats().blocksReturned).toBe(total);
        }),
        { numRuns: 40 },
      );
    }
  });

  test("poison mode reports a write after free, wherever the fragment was freed", () => {
    const backing = sharedBacking(16);
    const table = SharedFragmentTable.create({ pages: 16 });
    const source = new SharedPageSource(16);
    const reports: PoisonReport[] = [];
    const producer = new SharedFragmentCache(table, source, { backing, poison: true, onPoison: (r) => reports.push(r) });
    const consumer = new SharedFragmentCache(table, source, { backing, poison: true });
    const a = producer.alloc(100);
    consumer.free(a);
    backing.bytes(a + 5, 3).fill(1); // written after the free
    producer.drain();
    expect(reports).toEqual([{ address: a + 5, bytes: 3, fragment: -1, fragmentSize: 0, pfn: 0, when: "return" }]);
    expect(producer.stats().poisonReports).toBe(1);
  });

  test("bad input is a typed error naming the value, nothing changed", () => {
    const table = SharedFragmentTable.create({ pages: 16 });
    const cache = new SharedFragmentCache(table, new FakePageSource(16));
    const a = cache.alloc(64);
    const refs = table.refs.slice();
    expectMmkitError(() => cache.free(a + 16), "ERR_NOT_ALLOCATED", String(a + 16));
    expectMmkitError(() => cache.free(a + 3), "ERR_NOT_ALLOCATED", String(a + 3));
    expectMmkitError(() => cache.free(1 << 30), "ERR_NOT_ALLOCATED", String(1 << 30));
    expectMmkitError(() => cache.free(1.5), "ERR_INVALID_ARGUMENT", "1.5");
    expectMmkitError(() => cache.alloc(0), "ERR_OUT_OF_RANGE", "0");
    expectMmkitError(() => cache.alloc(64, 3), "ERR_INVALID_ARGUMENT", "3");
    expect(table.refs).toEqual(refs);
    cache.check();
    expectMmkitError(() => SharedFragmentTable.create({ pages: 0 }), "ERR_OUT_OF_RANGE", "0");
    expectMmkitError(() => SharedFragmentTable.create({ pages: 8, pageSize: 256 }), "ERR_OUT_OF_RANGE", "256");
    expectMmkitError(() => SharedFragmentTable.attach({} as never), "ERR_LAYOUT_MISMATCH", "version");
    expectMmkitError(() => new SharedFragmentCache(table, {} as never), "ERR_INVALID_ARGUMENT", "source");
    const memory = sharedBacking(16);
    expectMmkitError(() => new SharedFragmentCache(table, new FakePageSource(16), { backing: memory, clearOnFree: true }), "ERR_INVALID_ARGUMENT", "the table has none, these options ask for clearOnFree");
    const cleared = SharedFragmentTable.create({ pages: 16 });
    new SharedFragmentCache(cleared, new FakePageSource(16), { backing: memory, clearOnFree: true, zeroOnAlloc: true });
    expectMmkitError(() => new SharedFragmentCache(SharedFragmentTable.attach(cleared.handle), new FakePageSource(16), { backing: memory, poison: true }), "ERR_INVALID_ARGUMENT", "zeroOnAlloc, clearOnFree");
    const far = new SharedFragmentCache(SharedFragmentTable.create({ pages: 8 }), new FakePageSource(64));
    far.alloc(64);
    far.drain();
    const src = new FakePageSource(64);
    src.misalign = 8;
    const tooFar = new SharedFragmentCache(SharedFragmentTable.create({ pages: 8 }), src);
    expect(() => tooFar.alloc(64)).toThrow(MmkitError);
    expect(src.outstanding).toBe(0);
  });

  test("the table costs 73 bytes per 4 KiB page (README), plus one int32 of modes", () => {
    const t = SharedFragmentTable.create({ pages: 1024 });
    const bytes = t.heads.byteLength + t.refs.byteLength + t.order.byteLength + t.starts.byteLength + t.ends.byteLength;
    expect(bytes / 1024).toBe(73);
    expect(t.modes.length).toBe(1);
    expect(t.handle.arena.buffer.byteLength).toBeLessThan(1024 * 73 + 1024);
  });

  test("a table attached from its handle sees the same memory", () => {
    const table = SharedFragmentTable.create({ pages: 16 });
    const other = SharedFragmentTable.attach(table.handle);
    const source = new SharedPageSource(16);
    const a = new SharedFragmentCache(table, source).alloc(64);
    new SharedFragmentCache(other, source).free(a);
    expect(table.refs[0]).toBe(32768);
  });
});

describe("SharedFragmentCache bad-input sweep", () => {
  /** A table with a retired block holding a fragment and a current block holding two, one freed. */
  function build() {
    const table = SharedFragmentTable.create({ pages: 32 });
    const source = new FakePageSource(32);
    const cache = new SharedFragmentCache(table, source);
    const kept = cache.alloc(30000);
    const live = cache.alloc(4000); // does not fit: block 0 retired with `kept`, block 1 current
    cache.free(cache.alloc(64));
    return { table, source, cache, kept, live };
  }
  const snapshot = (s: ReturnType<typeof build>) =>
    JSON.stringify([Array.from(s.table.refs), Array.from(s.table.heads), Array.from(s.table.starts), Array.from(s.table.ends), s.cache.stats(), s.cache.currentBlock(), s.source.log]);

  test.each(HOSTILE_VALUES.map(([label, value]) => [label, value] as const))("%s as size, align or address: a typed error naming it, or a legitimate call; nothing changed on error", (label, value) => {
    const calls: [string, (s: ReturnType<typeof build>) => unknown][] = [
      ["alloc(size)", (s) => s.cache.alloc(value as number)],
      ["alloc(64, align)", (s) => s.cache.alloc(64, value as number)],
      ["free(address)", (s) => s.cache.free(value as number)],
    ];
    for (const [name, call] of calls) {
      const s = build();
      const before = snapshot(s);
      let thrown: unknown = null;
      try {
        call(s);
      } catch (error) {
        thrown = error;
      }
      if (thrown === null) {
        // Legitimate only when the value is a valid argument: then the call did what it says.
        // (undefined as align is the default, 1.)
        expect(typeof value === "number" || (value === undefined && name.includes("align")), `${name} with ${label} returned`).toBe(true);
        s.cache.check();
        continue;
      }
      expect(thrown, `${name} with ${label}`).toBeInstanceOf(MmkitError);
      expect(["ERR_INVALID_ARGUMENT", "ERR_OUT_OF_RANGE", "ERR_NOT_ALLOCATED"]).toContain((thrown as MmkitError).code);
      expect((thrown as MmkitError).message).toContain(typeof value === "number" ? String(value) : describeValue(value));
      expect(snapshot(s), `${name} with ${label} changed the state`).toBe(before);
      s.cache.check();
    }
  });
});
