import { ErrorCode } from "@mmkit/physmem";
import { Kmalloc, SlabAllocator, sizeClasses } from "@mmkit/slab";
import { expectMmkitError } from "@mmkit/test-support";
import { describe, expect, it } from "vitest";
import { machine } from "./fakes.js";

describe("caches", () => {
  it("runs the constructor once per object when a slab is set up, and keeps constructed bytes across free and alloc", () => {
    const { pages, memory } = machine(16);
    const slab = new SlabAllocator({ pages, memory });
    const seen: number[] = [];
    const c = slab.createCache("ctor", 24, { ctor: (a) => (seen.push(a), memory.bytes(a, 24).fill(0x42)) });
    // The free pointer moves after the object (24 bytes, then 8): the object's bytes stay constructed.
    expect(c.layout.freePointerOffset).toBe(24);
    expect(c.stride).toBe(32);
    const x = c.alloc();
    expect(seen.length).toBe(c.objectsPerSlab);
    expect(Math.min(...seen)).toBe(x);
    c.free(x);
    expect(memory.bytes(c.alloc(), 24).every((b) => b === 0x42)).toBe(true);
    expect(seen.length).toBe(c.objectsPerSlab);
    slab.check();
  });

  it("gives empty slabs back through a shrinker of the registry's shape", () => {
    const { pages, memory } = machine(64);
    const slab = new SlabAllocator({ pages, memory });
    const c = slab.createCache("s", 512, { minPartial: 5, cpuPartial: 0 });
    const xs = Array.from({ length: 3 * c.objectsPerSlab }, () => c.alloc());
    for (const x of xs) c.free(x);
    const shrinker = slab.shrinker();
    const sc = { nid: 0, nrToScan: 0, priority: 12, nrScanned: 0 };
    // Three empty slabs of the cache (one the CPU slab, two kept on the partial list) and the descriptor slab holding their descriptors.
    expect(shrinker.count(sc)).toBe(3);
    expect(shrinker.scan({ ...sc, nrToScan: 128 })).toBe(4);
    expect(shrinker.count(sc)).toBe(0);
    expect(pages.allocated).toBe(0);
    slab.check();
  });

  it("destroys an empty cache and refuses one with objects out", () => {
    const { pages, memory } = machine(16);
    const slab = new SlabAllocator({ pages, memory });
    const c = slab.createCache("d", 100);
    const x = c.alloc();
    expectMmkitError(() => slab.destroyCache(c), ErrorCode.InvalidState, "1 objects");
    c.free(x);
    slab.destroyCache(c);
    expect(slab.caches().map((k) => k.name)).toEqual(["slab"]);
    expectMmkitError(() => c.alloc(), ErrorCode.InvalidState, "destroyed");
    slab.shrink();
    expect(pages.allocated).toBe(0);
  });

  it("prints /proc/slabinfo", () => {
    const { pages, memory } = machine(16);
    const slab = new SlabAllocator({ pages, memory });
    const c = slab.createCache("dentry", 192);
    c.alloc();
    const lines = slab.slabinfo().split("\n");
    expect(lines[0]).toBe("slabinfo - version: 2.1");
    expect(lines[2]!.split(/\s+/).slice(0, 6)).toEqual(["slab", "1", "64", "64", "64", "1"]);
    expect(lines[3]!.split(/\s+/)).toEqual(["dentry", "1", "21", "192", "21", "1", ":", "tunables", "0", "0", "0", ":", "slabdata", "1", "1", "0"]);
  });

  it("size classes: the kernel's and four per power of two", () => {
    expect(sizeClasses("kmalloc", 8192)).toEqual([8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192]);
    expect(sizeClasses("fine", 512)).toEqual([8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384, 448, 512]);
    const { pages, memory } = machine(64);
    const km = new Kmalloc(new SlabAllocator({ pages, memory }), { classes: "fine" });
    expect([1, 8, 9, 100, 129, 8192].map((n) => km.usableSize(km.alloc(n)))).toEqual([8, 8, 16, 112, 160, 8192]);
    // Alignment picks the first class whose slots are a multiple of it: 100 bytes at 64 -> the 128 class.
    expect(km.usableSize(km.alloc(100, 64))).toBe(128);
  });

  it("large requests go to the range source rounded to largeUnit and aligned to at least it", () => {
    const { pages, memory } = machine(64);
    const asked: [number, number][] = [];
    let next = 1 << 20;
    const large = {
      allocRange(size: number, alignment: number) {
        asked.push([size, alignment]);
        next = Math.ceil(next / alignment) * alignment;
        const at = next;
        next += size;
        return at;
      },
      freeRange() {},
    };
    const km = new Kmalloc(new SlabAllocator({ pages, memory }), { large, largeUnit: 16, maxCacheSize: 1024 });
    const a = km.alloc(9000);
    const b = km.alloc(1025, 64);
    expect(asked).toEqual([[9008, 16], [1040, 64]]);
    expect([a, b, km.usableSize(a), km.usableSize(b)]).toEqual([1 << 20, (1 << 20) + 9024, 9008, 1040]);
    expect(km.stats()).toMatchObject({ largeBytes: 10_048, largeAllocations: 2 });
    // The default unit is the page: whole pages at page alignment.
    const whole: [number, number][] = [];
    const km2 = new Kmalloc(new SlabAllocator({ pages, memory }), { large: { allocRange: (n, al) => (whole.push([n, al]), 0), freeRange() {} } });
    km2.alloc(9000);
    expect(whole).toEqual([[12288, 4096]]);
    expectMmkitError(() => new Kmalloc(new SlabAllocator({ pages, memory }), { large, largeUnit: 12 }), ErrorCode.InvalidArgument, "12");
    expectMmkitError(() => new Kmalloc(new SlabAllocator({ pages, memory }), { large, largeUnit: 8192 }), ErrorCode.OutOfRange, "8192");
  });
});
