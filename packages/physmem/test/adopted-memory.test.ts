import { AdoptedMemory, ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import { expectMmkitError, HOSTILE_VALUES } from "@mmkit/test-support";
import { describe, expect, it } from "vitest";

describe("AdoptedMemory", () => {
  it("adopts an ArrayBuffer at a base address", () => {
    const buffer = new ArrayBuffer(1024);
    const m = new AdoptedMemory(buffer, { base: 4096 });
    m.bytes(4096 + 10, 2).set([7, 8]);
    expect(new Uint8Array(buffer)[10]).toBe(7);
    expect(m.size).toBe(1024);
    expect(m.growable).toBe(false);
    expect(m.grow(1)).toBe(-1);
    expectMmkitError(() => m.bytes(4095, 1), ErrorCode.NotRam, "4095");
    expectMmkitError(() => m.bytes(4096 + 1000, 25), ErrorCode.NotRam, "5096");
    expectMmkitError(() => m.bytes(1.5, 1), ErrorCode.InvalidArgument, "1.5");
  });

  it("follows a WebAssembly.Memory's growth: the same bytes through the new buffer", () => {
    const wasm = new WebAssembly.Memory({ initial: 1, maximum: 3 });
    const m = new AdoptedMemory(wasm);
    m.bytes(100, 1)[0] = 42;
    const old = m.buffer;
    expect(m.generation).toBe(0);
    expect(m.grow(1)).toBe(131072);
    expect(m.buffer).not.toBe(old);
    expect(old.byteLength).toBe(0); // the old buffer is detached
    expect(m.generation).toBe(1);
    expect(m.bytes(100, 1)[0]).toBe(42);
    m.bytes(131071, 1)[0] = 9;
    // A grow by the module itself (not through us) is seen as well.
    wasm.grow(1);
    expect(m.size).toBe(196608);
    expect(m.generation).toBe(2);
    expect(m.grow(1)).toBe(-1); // past the maximum
  });

  it("adopts a SharedArrayBuffer and a resizable ArrayBuffer, and grows the latter", () => {
    const shared = new AdoptedMemory(new SharedArrayBuffer(64));
    shared.bytes(0, 1)[0] = 1;
    expect(shared.size).toBe(64);
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
    const r = new AdoptedMemory(new Resizable(64, { maxByteLength: 256 }));
    expect(r.growable).toBe(true);
    expect(r.grow(64)).toBe(128);
    expect(r.grow(1000)).toBe(-1);
    r.bytes(127, 1)[0] = 5;
  });

  it("refuses to write through a detached buffer", () => {
    const buffer = new ArrayBuffer(64);
    const m = new AdoptedMemory(buffer);
    structuredClone(buffer, { transfer: [buffer] });
    expectMmkitError(() => m.bytes(0, 1), ErrorCode.InvalidState, "detached");
  });

  it("refuses what it cannot adopt", () => {
    for (const bad of [null, 1, "x", new Uint8Array(4), {}]) {
      expectMmkitError(() => new AdoptedMemory(bad as never), ErrorCode.InvalidArgument, "");
    }
  });

  it("bad input in every position: a typed error naming the value, and the bytes unchanged", () => {
    const positions: [string, (m: AdoptedMemory, v: unknown) => unknown, (v: unknown) => boolean][] = [
      ["bytes(address)", (m, v) => m.bytes(v as number, 1), (v) => Object.is(v, -0)],
      ["bytes(0, length)", (m, v) => m.bytes(0, v as number), (v) => Object.is(v, -0)],
      // A huge but well-formed size is not misuse: this buffer cannot grow, so it says -1.
      ["grow(bytes)", (m, v) => m.grow(v as number), (v) => v === Number.MAX_SAFE_INTEGER],
      ["new AdoptedMemory(buffer, { base })", (_m, v) => new AdoptedMemory(new ArrayBuffer(8), { base: v as number }), (v) => v === undefined || Object.is(v, -0) || v === Number.MAX_SAFE_INTEGER],
      ["new AdoptedMemory(buffer, options)", (_m, v) => new AdoptedMemory(new ArrayBuffer(8), v as never), (v) => v === undefined || (typeof v === "object" && v !== null)],
    ];
    for (const [where, call, valid] of positions) {
      for (const [label, value] of HOSTILE_VALUES) {
        if (valid(value)) continue;
        const buffer = new ArrayBuffer(64);
        new Uint8Array(buffer).fill(9);
        const m = new AdoptedMemory(buffer);
        let caught: unknown;
        try {
          call(m, value);
        } catch (e) {
          caught = e;
        }
        expect(caught, `${where} with ${label}`).toBeInstanceOf(MmkitError);
        // NaN, objects and BigInts are named as describeValue prints them.
        expect((caught as Error).message, `${where} with ${label}`).toContain(describeValue(value));
        expect(new Uint8Array(buffer).every((b) => b === 9)).toBe(true);
        expect(m.size).toBe(64);
      }
    }
  });
});
