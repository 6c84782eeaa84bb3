import { ErrorCode, MetadataArena } from "@mmkit/physmem";
import { SlabAllocator, SlabErrorCode, SLAB_DESCRIPTOR_MAGIC } from "@mmkit/slab";
import { expectMmkitError } from "@mmkit/test-support";
import { describe, expect, it } from "vitest";
import { machine, PackedMemory, TestPages } from "./fakes.js";

function word(bytes: Uint8Array): number {
  return (bytes[0]! | (bytes[1]! << 8) | (bytes[2]! << 16) | (bytes[3]! << 24)) >>> 0;
}

describe("SlabAllocator", () => {
  it("threads the free list through the free objects' own bytes", () => {
    const { pages, memory } = machine(64);
    const slab = new SlabAllocator({ pages, memory });
    const cache = slab.createCache("thing", 100);
    expect(cache.stride).toBe(104);
    expect(cache.order).toBe(0); // 39 objects in 4 KiB, 40 bytes left
    expect(cache.objectsPerSlab).toBe(39);
    const a = cache.alloc();
    // Pages 0 is the cache's slab; page 1 the descriptor cache's slab, whose first object is its own descriptor.
    expect(a).toBe(0);
    expect(slab.descriptorOf(a)).toBe(4096 + 64);
    expect(slab.descriptorOf(4096)).toBe(4096);
    const b = cache.alloc();
    expect(b).toBe(104);
    // The next free object's address + 1, little-endian, at offset 0 of the free object b + 104.
    expect(word(memory.bytes(b + 104, 4))).toBe(b + 2 * 104 + 1);
    cache.free(a);
    expect(word(memory.bytes(a, 4))).toBe(b + 104 + 1);
    expect(cache.alloc()).toBe(a); // LIFO
    slab.check();
  });

  it("with whole() + offsetOf, keeps the free pointer where offsetOf says and makes no view per alloc or free", () => {
    const memory = new PackedMemory(64);
    const slab = new SlabAllocator({ pages: new TestPages(64), memory });
    const cache = slab.createCache("thing", 100);
    const a = cache.alloc();
    const b = cache.alloc();
    expect([a, b]).toEqual([0, 104]);
    // Page 0 sits in the last 8-page group of the buffer: the free pointer of b + 104 is there.
    expect(memory.offsetOf(b + 104)).toBe(7 * 8 * 4096 + 208);
    expect(word(memory.buffer.subarray(7 * 8 * 4096 + 208))).toBe(b + 2 * 104 + 1);
    // New slabs write their descriptors through bytes(); objects on existing slabs never do.
    const calls = memory.bytesCalls;
    cache.free(a);
    expect(word(memory.buffer.subarray(7 * 8 * 4096))).toBe(b + 104 + 1);
    expect(cache.alloc()).toBe(a);
    for (let i = 0; i < 30; i++) cache.free(cache.alloc());
    expect(memory.bytesCalls).toBe(calls);
    slab.check();
  });

  it("allocates a slab's descriptor from the slab cache, recursing once, and self-hosts 64-byte slabs", () => {
    const { pages, memory } = machine(64);
    const slab = new SlabAllocator({ pages, memory });
    const objects = slab.createCache("objects", 64);
    const x = objects.alloc();
    expect(x).toBe(64); // object 0 of the slab is its own descriptor
    expect(slab.descriptorOf(x)).toBe(0);
    expect(word(memory.bytes(0, 4))).toBe(SLAB_DESCRIPTOR_MAGIC);
    expect(slab.stats().maxDepth).toBe(1);
    const big = slab.createCache("big", 1000);
    const y = big.alloc();
    expect(y).toBe(8192); // order 1 slab at pages 2-3 (page 1 left free by alignment)
    const d = slab.descriptorOf(y);
    expect(d).toBe(4096 + 64); // descriptor slab at page 1, its first object itself
    const st = slab.stats();
    expect(st.maxDepth).toBe(2);
    expect(st.slabsAtDepth).toEqual([2, 1]);
    expect(st.descriptorBytes).toBe(3 * 64);
    expect(st.descriptorPages).toBe(1);
    slab.check();
    big.free(y);
    objects.free(x);
    expect(slab.shrink()).toBe(4);
    expect(pages.allocated).toBe(0);
    slab.check();
  });

  it("refuses misuse with typed errors and changes nothing", () => {
    const { pages, memory } = machine(64);
    const slab = new SlabAllocator({ pages, memory });
    const a = slab.createCache("a", 32);
    const b = slab.createCache("b", 48);
    const x = a.alloc();
    const y = b.alloc();
    const before = slab.slabinfo();
    expectMmkitError(() => a.free(x + 8), ErrorCode.NotAllocated, String(x + 8));
    expectMmkitError(() => a.free(y), SlabErrorCode.WrongCache, String(y));
    expectMmkitError(() => slab.free(10 * 4096), ErrorCode.NotAllocated, String(10 * 4096));
    expectMmkitError(() => slab.free(slab.descriptorOf(x)), ErrorCode.NotAllocated, String(slab.descriptorOf(x)));
    expectMmkitError(() => slab.descriptorCache.alloc(), ErrorCode.InvalidState, "descriptors");
    expect(slab.slabinfo()).toBe(before);
    a.free(x);
    expectMmkitError(() => a.free(x), ErrorCode.DoubleFree, String(x));
    expectMmkitError(() => a.alloc(1), ErrorCode.OutOfRange, "1");
    expect(slab.slabinfo()).not.toBe(before);
    slab.check();
  });

  it("slub_debug Z and P catch a write past the end and a write after free", () => {
    const { pages, memory } = machine(64);
    const slab = new SlabAllocator({ pages, memory, debug: "FZP" });
    const c = slab.createCache("dbg", 20);
    expect(c.layout).toEqual({ objectSize: 20, redZoneOffset: 20, redZoneBytes: 12, freePointerOffset: 32, stride: 40, poison: true });
    const x = c.alloc();
    expect(memory.bytes(x, 20).every((v) => v === 0x6b || v === 0xa5)).toBe(true);
    memory.bytes(x + 20, 1)[0] = 1; // one byte too far
    expectMmkitError(() => c.free(x), SlabErrorCode.Corruption, "offset 20");
    memory.bytes(x + 20, 1)[0] = 0xcc;
    c.free(x);
    slab.check();
    memory.bytes(x + 3, 1)[0] = 0; // write after free
    expectMmkitError(() => c.alloc(), SlabErrorCode.Corruption, "offset 3");
    expect(() => slab.check()).toThrow(/poison/);
  });

  it("measures its metadata in the arena", () => {
    const { pages, memory } = machine(16);
    const arena = new MetadataArena();
    new SlabAllocator({ pages, memory, arena });
    expect(arena.bytes).toBeGreaterThan(0);
  });
});
