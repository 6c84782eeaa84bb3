import { describe, expect, test } from "vitest";
import { HOSTILE_FACTORIES, expectMmkitError } from "@mmkit/test-support";
import { ErrorCode, FutexMutex, LOCK_INTS, RecordingArena, SHARED_ARENA_VERSION, SharedMetadataArena, SpinLock, describeValue } from "../src/index.js";

describe("SharedMetadataArena", () => {
  test("arrays live in one SharedArrayBuffer, each on its own 64-byte line", () => {
    const arena = new SharedMetadataArena({ capacity: 1024, maxArrays: 4 });
    const a = arena.int32(3, "a");
    const b = arena.float64(9, "b");
    const c = arena.uint8(1, "c");
    expect(a.buffer).toBe(arena.buffer);
    expect(b.buffer).toBe(arena.buffer);
    // Header 64 B + 4 directory entries of 16 B = 128 B, then 64-byte aligned arrays.
    expect([a.byteOffset, b.byteOffset, c.byteOffset]).toEqual([128, 192, 320]);
    expect(arena.usedBytes).toBe(256);
    expect(arena.bytes).toBe(12 + 72 + 1);
    expect(arena.byLabel()).toEqual({ a: 12, b: 72, c: 1 });
    expect(arena.arrayCount).toBe(3);
    expect(arena.capacity).toBe(1024);
  });

  test("attach hands out views of the same memory, in the creator's order", () => {
    const arena = new SharedMetadataArena({ capacity: 512 });
    const next = arena.int32(16, "next");
    const flags = arena.uint8(5, "flags");
    next[3] = 42;
    const handle = structuredClone(arena.handle);
    expect(handle.version).toBe(SHARED_ARENA_VERSION);
    const other = SharedMetadataArena.attach(handle);
    expect(other.attached).toBe(true);
    const next2 = other.int32(16, "next");
    const flags2 = other.uint8(5, "flags");
    expect(next2[3]).toBe(42);
    flags2[4] = 7;
    expect(flags[4]).toBe(7);
    expect(next2.byteOffset).toBe(next.byteOffset);
    expect(() => other.int32(1, "more")).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch, message: expect.stringContaining('"more"') }));
  });

  test("another layout is ERR_LAYOUT_MISMATCH: kind, length, label, magic, version", () => {
    const arena = new SharedMetadataArena({ capacity: 512 });
    arena.int32(16, "next");
    const h = arena.handle;
    expect(() => SharedMetadataArena.attach(h).uint32(16, "next")).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch }));
    expect(() => SharedMetadataArena.attach(h).int32(17, "next")).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch, message: expect.stringContaining("int32[17]") }));
    expect(() => SharedMetadataArena.attach(h).int32(16, "prev")).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch, message: expect.stringContaining('"prev"') }));
    expect(() => SharedMetadataArena.attach({ ...h, version: 99 })).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch, message: expect.stringContaining("99") }));
    const header = new Int32Array(h.buffer);
    header[1] = 2;
    expect(() => SharedMetadataArena.attach(h)).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch, message: expect.stringContaining("version 2") }));
    header[1] = SHARED_ARENA_VERSION;
    header[0] = 0;
    expect(() => SharedMetadataArena.attach(h)).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch, message: expect.stringContaining("magic") }));
    expect(() => SharedMetadataArena.attach({ format: "mmkit-shared-arena", version: 1, buffer: new SharedArrayBuffer(8) })).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch }));
    expect(() => SharedMetadataArena.attach(null as never)).toThrowError(expect.objectContaining({ code: ErrorCode.LayoutMismatch, message: expect.stringContaining("null") }));
  });

  test("a full arena refuses with ERR_ARENA_FULL and is unchanged", () => {
    const arena = new SharedMetadataArena({ capacity: 128, maxArrays: 2 });
    arena.int32(16, "a");
    expect(() => arena.int32(17, "b")).toThrowError(expect.objectContaining({ code: ErrorCode.ArenaFull, message: expect.stringContaining('"b"') }));
    expect(arena.usedBytes).toBe(64);
    expect(arena.arrayCount).toBe(1);
    arena.int32(16, "b");
    expect(() => arena.uint8(0, "c")).toThrowError(expect.objectContaining({ code: ErrorCode.ArenaFull, message: expect.stringContaining("directory") }));
    expect(arena.arrayCount).toBe(2);
  });

  test("bad options, kinds, lengths and releases are typed errors", () => {
    expect(() => new SharedMetadataArena({ capacity: -1 })).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument, message: expect.stringContaining("-1") }));
    expect(() => new SharedMetadataArena({ capacity: 64, maxArrays: 0 })).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(() => new SharedMetadataArena(null as never)).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    const arena = new SharedMetadataArena({ capacity: 256 });
    expect(() => arena.allocate("int64" as never, 1, "x")).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(() => arena.int32(NaN, "x")).toThrowError(expect.objectContaining({ message: expect.stringContaining("NaN") }));
    const a = arena.int32(4, "x");
    arena.release(a);
    expect(arena.bytes).toBe(0);
    expect(() => arena.release(a)).toThrowError(expect.objectContaining({ code: ErrorCode.NotAllocated }));
    expect(arena.arrayCount).toBe(1);
  });
});

describe("hostile values in every position of the shared arena and the locks", () => {
  const arenaOf = () => new SharedMetadataArena({ capacity: 256 });
  for (const [label, make] of HOSTILE_FACTORIES) {
    test(`${label}`, () => {
      const v = make();
      // capacity: -0 is 0 bytes, legitimate.
      if (label !== "-0") expectMmkitError(() => new SharedMetadataArena({ capacity: v as number }), ErrorCode.InvalidArgument, describeValue(v));
      // maxArrays: undefined means the default, legitimate.
      if (label !== "undefined") expectMmkitError(() => new SharedMetadataArena({ capacity: 64, maxArrays: v as number }), ErrorCode.InvalidArgument, describeValue(v));
      const arena = arenaOf();
      // length: -0 is an empty array, legitimate; MAX_SAFE_INTEGER is a length, too large for the capacity.
      if (label === "MAX_SAFE_INTEGER") expectMmkitError(() => arena.int32(v as number, "x"), ErrorCode.ArenaFull, describeValue(v));
      else if (label !== "-0") expectMmkitError(() => arena.int32(v as number, "x"), ErrorCode.InvalidArgument, describeValue(v));
      // label: "3" is a label like any other, legitimate.
      if (typeof v !== "string") expectMmkitError(() => arena.int32(1, v as string), ErrorCode.InvalidArgument, describeValue(v));
      expect(arena.arrayCount).toBe(0);
      const word = arenaOf().int32(LOCK_INTS, "lock");
      // owner: undefined means the default owner 1, legitimate.
      if (label !== "undefined") {
        expectMmkitError(() => new SpinLock(word, v as number), ErrorCode.InvalidArgument, describeValue(v));
        expectMmkitError(() => new FutexMutex(word, v as number), ErrorCode.InvalidArgument, describeValue(v));
      }
      expectMmkitError(() => new FutexMutex(v as Int32Array), ErrorCode.InvalidArgument, describeValue(v));
      expectMmkitError(() => SharedMetadataArena.attach(v as never), ErrorCode.LayoutMismatch, describeValue(v));
      expectMmkitError(() => SharedMetadataArena.copyOf(v as never), ErrorCode.InvalidArgument, describeValue(v));
      // spare room: undefined is none, -0 is 0; the rest are refused.
      if (label !== "undefined" && label !== "-0") {
        expectMmkitError(() => SharedMetadataArena.copyOf(new RecordingArena(), { spareBytes: v as number }), ErrorCode.InvalidArgument, describeValue(v));
        expectMmkitError(() => SharedMetadataArena.copyOf(new RecordingArena(), { spareArrays: v as number }), ErrorCode.InvalidArgument, describeValue(v));
      }
      // shared: undefined and null are the default, as for MetadataArena.
      if (label !== "undefined" && label !== "null") expectMmkitError(() => new RecordingArena({ shared: v as boolean }), ErrorCode.InvalidArgument, describeValue(v));
    });
  }
});

test("RecordingArena + copyOf: the same arrays, order and contents in one shared buffer, with spare room", () => {
  const recording = new RecordingArena();
  const a = recording.int32(5, "a");
  const gone = recording.uint8(3, "gone");
  const b = recording.float64(2, "b");
  recording.release(gone);
  a.set([1, 2, 3, 4, 5]);
  b[1] = 0.5;
  expect(recording.arrays().map((r) => `${r.kind}:${r.label}`)).toEqual(["int32:a", "float64:b"]);
  const shared = SharedMetadataArena.copyOf(recording, { spareBytes: 64, spareArrays: 1 });
  expect(shared.capacity).toBe(64 + 64 + 64);
  const attached = SharedMetadataArena.attach(shared.handle);
  expect([...attached.int32(5, "a")]).toEqual([1, 2, 3, 4, 5]);
  expect([...attached.float64(2, "b")]).toEqual([0, 0.5]);
  shared.int32(16, "lock");
  expect(() => shared.uint8(1, "one too many")).toThrowError(expect.objectContaining({ code: ErrorCode.ArenaFull }));
  // More than a shared arena can address: refused before any buffer is made.
  expect(() => SharedMetadataArena.copyOf(recording, { spareBytes: 2 ** 31 })).toThrowError(expect.objectContaining({ code: ErrorCode.OutOfRange, message: expect.stringContaining("2147483776 bytes") }));
});
