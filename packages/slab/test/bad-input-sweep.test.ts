import { Kmalloc, SlabAllocator } from "@mmkit/slab";
import { HOSTILE_VALUES, expectEveryRefusal } from "@mmkit/test-support";
import { describe, it } from "vitest";
import { machine } from "./fakes.js";

/** A world with one object out in each of two caches and a kmalloc with one small and one large allocation. */
function world() {
  const { pages, memory } = machine(64);
  const slab = new SlabAllocator({ pages, memory, cpus: 2 });
  const cache = slab.createCache("c", 40);
  const x = cache.alloc();
  const km = new Kmalloc(slab);
  const small = km.alloc(100);
  const large = km.alloc(20_000);
  const snapshot = () => JSON.stringify([slab.stats(), km.stats(), pages.allocated]);
  return { slab, cache, x, km, small, large, snapshot };
}

type World = ReturnType<typeof world>;

/** Where a hostile value goes, and whether that value happens to be a valid argument there. */
const isZero = (v: unknown) => v === undefined || Object.is(v, -0);

const POSITIONS: [string, (w: World, v: unknown) => unknown, (v: unknown) => boolean][] = [
  ["new SlabAllocator(options)", (_w, v) => new SlabAllocator(v as never), () => false],
  ["new SlabAllocator({ pages })", (w, v) => new SlabAllocator({ pages: v as never, memory: w.slab.objects.memory }), () => false],
  ["new SlabAllocator({ pageSize })", (w, v) => new SlabAllocator({ pages: w.slab.pages, memory: w.slab.objects.memory, pageSize: v as never }), (v) => v === undefined],
  ["new SlabAllocator({ cpus })", (w, v) => new SlabAllocator({ pages: w.slab.pages, memory: w.slab.objects.memory, cpus: v as never }), (v) => v === undefined],
  ["new SlabAllocator({ debug })", (w, v) => new SlabAllocator({ pages: w.slab.pages, memory: w.slab.objects.memory, debug: v as never }), (v) => v === undefined],
  ["new SlabAllocator({ arena })", (w, v) => new SlabAllocator({ pages: w.slab.pages, memory: w.slab.objects.memory, arena: v as never }), (v) => v === undefined],
  ["createCache(name)", (w, v) => w.slab.createCache(v as never, 32), (v) => typeof v === "string"],
  ["createCache(size)", (w, v) => w.slab.createCache("x", v as never), () => false],
  ["createCache(options)", (w, v) => w.slab.createCache("x", 32, v as never), (v) => v === undefined || (typeof v === "object" && v !== null && !Array.isArray(v))],
  ["createCache({ align })", (w, v) => w.slab.createCache("x", 32, { align: v as never }), (v) => v === undefined],
  ["createCache({ ctor })", (w, v) => w.slab.createCache("x", 32, { ctor: v as never }), (v) => v === undefined || v === null],
  ["createCache({ minPartial })", (w, v) => w.slab.createCache("x", 32, { minPartial: v as never }), isZero],
  ["createCache({ cpuPartial })", (w, v) => w.slab.createCache("x", 32, { cpuPartial: v as never }), isZero],
  ["cache.alloc(cpu)", (w, v) => w.cache.alloc(v as never), isZero],
  ["cache.free(address)", (w, v) => w.cache.free(v as never), (v) => Object.is(v, -0)] /* -0 is address 0: x, a live object */,
  ["cache.free(x, cpu)", (w, v) => w.cache.free(w.x, v as never), isZero],
  ["slab.free(address)", (w, v) => w.slab.free(v as never), (v) => Object.is(v, -0)] /* -0 is address 0: x, a live object */,
  ["slab.cacheOf(address)", (w, v) => w.slab.cacheOf(v as never), (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0],
  ["slab.descriptorOf(address)", (w, v) => w.slab.descriptorOf(v as never), (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0],
  ["slab.isAllocatedObject(address)", (w, v) => w.slab.isAllocatedObject(v as never), (v) => typeof v === "number" && Number.isSafeInteger(v) && v >= 0],
  ["slab.destroyCache(cache)", (w, v) => w.slab.destroyCache(v as never), () => false],
  ["new Kmalloc(slab, options)", (w, v) => new Kmalloc(w.slab, v as never), (v) => v === undefined || (typeof v === "object" && v !== null && !Array.isArray(v))],
  ["new Kmalloc(slab, { classes })", (w, v) => new Kmalloc(w.slab, { classes: v as never }), (v) => v === undefined],
  ["new Kmalloc(slab, { large })", (w, v) => new Kmalloc(w.slab, { large: v as never }), (v) => v === undefined || v === null],
  ["new Kmalloc(slab, { largeUnit })", (w, v) => new Kmalloc(w.slab, { largeUnit: v as never }), (v) => v === undefined],
  ["new Kmalloc(slab, { maxCacheSize })", (w, v) => new Kmalloc(w.slab, { maxCacheSize: v as never }), (v) => v === undefined],
  ["km.alloc(size)", (w, v) => w.km.alloc(v as never), (v) => v === Number.MAX_SAFE_INTEGER],
  ["km.alloc(100, align)", (w, v) => w.km.alloc(100, v as never), (v) => v === undefined],
  ["km.alloc(100, 8, cpu)", (w, v) => w.km.alloc(100, 8, v as never), isZero],
  ["km.free(address)", (w, v) => w.km.free(v as never), (v) => Object.is(v, -0)] /* -0 is address 0: x, a live object */,
  ["km.usableSize(address)", (w, v) => w.km.usableSize(v as never), (v) => Object.is(v, -0)] /* -0 is address 0: x, a live object */,
];

const subject = { make: () => world(), state: (w: World) => w.snapshot(), check: (w: World) => w.slab.check() };

// A huge but valid size is not misuse: it is "no memory", -1 (those positions count it valid).
describe("bad input: every position, every hostile value", () => {
  for (const [where, call, valid] of POSITIONS) {
    it(`${where}: a typed error naming the value, and nothing changes`, () => expectEveryRefusal(subject, where, call, valid, HOSTILE_VALUES));
  }
});
