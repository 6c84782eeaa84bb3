import { describe, expect, test, vi } from "vitest";
import { ErrorCode, MemoryBacking, MemoryFailure, MemoryMap, MiB, MmkitError, PhysicalMemory, TiB } from "../src/index.js";

describe("MemoryBacking", () => {
  const map = new MemoryMap({ ranges: [{ base: 0, size: MiB }, { base: 2 * MiB, size: MiB, node: 1 }] });

  test("bytes are real and shared between views; views never cross a hole", () => {
    const ram = new MemoryBacking(map);
    ram.bytes(2 * MiB + 10, 3).set([7, 8, 9]);
    expect([...ram.pages(512, 1).subarray(10, 13)]).toEqual([7, 8, 9]);
    expect(() => ram.bytes(MiB - 2, 4)).toThrowError(expect.objectContaining({ code: ErrorCode.NotRam, message: expect.stringContaining(String(MiB - 2)) }));
    expect(() => ram.bytes(MiB + 5, 1)).toThrowError(expect.objectContaining({ code: ErrorCode.NotRam }));
    expect(() => ram.bytes(-1, 1)).toThrowError(expect.objectContaining({ code: ErrorCode.OutOfRange }));
    expect(ram.buffer(1).byteLength).toBe(MiB);
  });

  test("shared backing uses SharedArrayBuffer", () => {
    expect(new MemoryBacking(map, { shared: true }).buffer(0)).toBeInstanceOf(SharedArrayBuffer);
  });

  test("backing larger than allowed is a clear error at construction", () => {
    expect(() => new MemoryBacking(map, { maxBytes: MiB })).toThrowError(expect.objectContaining({ code: ErrorCode.BackingTooLarge, message: expect.stringContaining("2097152") }));
    const huge = new MemoryMap({ ranges: [{ base: 0, size: 1.5 * TiB }] });
    expect(() => new MemoryBacking(huge)).toThrowError(expect.objectContaining({ code: ErrorCode.BackingTooLarge }));
  });
});

describe("MemoryFailure", () => {
  test("poison notifies every subscriber once; a throwing handler does not silence the others", () => {
    const map = MemoryMap.uniform(4 * MiB, { nodes: 2 });
    const failures = new MemoryFailure(map);
    const seen: string[] = [];
    const off = failures.subscribe((e) => seen.push(`a:${e.pfn}@${e.address}/n${e.node}/${e.source}`));
    failures.subscribe(() => {
      throw new Error("owner crashed");
    });
    failures.subscribe((e) => seen.push(`c:${e.pfn}`));
    expect(() => failures.poison(600, "test")).toThrowError(MmkitError);
    expect(seen).toEqual(["a:600@2457600/n1/test", "c:600"]);
    expect(failures.isPoisoned(600)).toBe(true);
    expect(failures.poison(600)).toBe(false);
    off();
    expect(failures.count).toBe(1);
    expect(failures.unpoison(600)).toBe(true);
    expect(failures.unpoison(600)).toBe(false);
    expect(() => failures.poison(1 << 20)).toThrowError(expect.objectContaining({ code: ErrorCode.NotRam }));
    expect(failures.poisonedPfns()).toEqual([]);
  });

  test("PhysicalMemory wires map, backing, direct map and failures", () => {
    const machine = new PhysicalMemory({ ranges: [{ base: 0, size: 4 * MiB }], backing: "shared" });
    const handler = vi.fn();
    machine.failures.subscribe(handler);
    expect(machine.poison(3)).toBe(true);
    expect(handler).toHaveBeenCalledWith(expect.objectContaining({ pfn: 3, source: "mce" }));
    expect(machine.bytes(0, 8).buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(machine.pageSize).toBe(4096);
    const unbacked = new PhysicalMemory({ ranges: [{ base: 0, size: MiB }] });
    expect(() => unbacked.bytes(0, 1)).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidState }));
    expect(() => new PhysicalMemory({ ranges: [{ base: 0, size: MiB }], backing: "disk" as never })).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
  });
});
