import { readFileSync } from "node:fs";
import { MiB, PhysicalMemory } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import { describe, expect, test } from "vitest";
import { SWAP_BASE, SYSTEMS, SwapFile, buildSystem, systemNamed } from "../../src/systems/index.js";
import { SeededRandom } from "../../src/workloads/random.js";
import { pressureWithSwap } from "../../src/workloads/system-state.js";

describe("swap", () => {
  test("a page's random bytes go to the file at its POTAD slot's offset and come back intact", () => {
    const machine = new PhysicalMemory({ ranges: [{ base: 0, size: MiB }], backing: "array" });
    const swap = new SwapFile(new Potad(), { bytes: 64 * 4096 });
    try {
      const rng = new SeededRandom(7, "swap-test");
      const pages = Array.from({ length: 16 }, (_, i) => {
        const bytes = machine.bytes(i * 4096, 4096);
        for (let k = 0; k < 4096; k++) bytes[k] = rng.below(256);
        return bytes.slice();
      });
      const slots = pages.map((_, i) => swap.writeOut(machine.bytes(i * 4096, 4096)));
      // Slots are 4 KiB apart in a space that is not memory, above 1 TiB.
      expect(slots).toEqual(Array.from({ length: 16 }, (_, i) => SWAP_BASE + i * 4096));
      expect(swap.slotsInUse).toBe(16);
      const file = readFileSync(swap.path);
      for (let i = 0; i < 16; i++) expect(file.subarray(slots[i]! - SWAP_BASE, slots[i]! - SWAP_BASE + 4096).equals(Buffer.from(pages[i]!))).toBe(true);
      machine.bytes(0, 16 * 4096).fill(0);
      // Back in, into other frames, in another order.
      for (let i = 15; i >= 0; i--) swap.readIn(slots[i]!, machine.bytes((100 + i) * 4096, 4096));
      for (let i = 0; i < 16; i++) expect(machine.bytes((100 + i) * 4096, 4096)).toEqual(pages[i]);
      expect(swap.slotsInUse).toBe(0);
      expect([swap.writes, swap.reads]).toEqual([16, 16]);
    } finally {
      swap.close();
    }
  });

  test("under pressure the registry evicts anon pages to swap and they fault back in with their bytes", () => {
    const system = buildSystem(systemNamed("memdesc")!, { bytes: 4 * MiB, backing: true });
    try {
      const anon = system.anonMemory(2048, 8 * MiB);
      const rng = new SeededRandom(9, "pressure-test");
      const content = new Map<number, Uint8Array>();
      for (let v = 0; v < 2048; v++) {
        const pfn = anon.touch(v);
        expect(pfn).toBeGreaterThanOrEqual(0);
        const bytes = system.machine.bytes(pfn * 4096, 4096);
        for (let k = 0; k < 4096; k += 97) bytes[k] = rng.below(256);
        content.set(v, bytes.slice());
      }
      expect(anon.swappedOut).toBeGreaterThan(1000);
      expect(system.directReclaim!.stats().slowPath).toBeGreaterThan(0);
      let wrong = 0;
      for (let v = 0; v < 2048; v++) {
        const pfn = anon.touch(v);
        if (!Buffer.from(system.machine.bytes(pfn * 4096, 4096)).equals(Buffer.from(content.get(v)!))) wrong++;
      }
      expect(wrong).toBe(0);
      expect(anon.faultsIn).toBeGreaterThan(1000);
      system.check();
    } finally {
      system.dispose();
    }
  });

  test.each(SYSTEMS.map((s) => [s.name, s] as const))("%s: pressure shrinks the PTE-mapped cache through the registry, swaps, and corrupts nothing", (_, def) => {
    const r = pressureWithSwap(def, { bytes: 4 * MiB }, 0x6d6d6b74, 4_000);
    expect(r.corrupted).toBe(0);
    expect(r.swappedOut).toBeGreaterThan(500);
    expect(r.faultsIn).toBeGreaterThan(100);
    expect(r.pteCacheReturnedPages).toBe(512);
    expect(r.swapSlotsInUse).toBe(r.swappedOut - r.faultsIn);
  });
});
