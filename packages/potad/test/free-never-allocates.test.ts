import { MetadataArena, MiB } from "@mmkit/physmem";
import { Potad } from "@mmkit/potad";
import fc from "fast-check";
import { expect, test } from "vitest";

// The roadblock met when buddy free lists became radix trees: a free that needs a new page for the
// tree. Here every free (and every drain of the fronts, with fronts off, small and default) runs with
// the arena sealed, so any metadata growth throws ERR_ARENA_SEALED.
test("free never allocates metadata: every free runs inside arena.sealWhile", () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ order: fc.nat(6), contiguous: fc.boolean(), descriptor: fc.boolean() }), { minLength: 1, maxLength: 150 }),
      fc.array(fc.nat(), { maxLength: 150 }),
      fc.constantFrom(0, 2, 64),
      (allocs, order, frontHigh) => {
        const arena = new MetadataArena();
        const potad = new Potad({ arena, frontHigh });
        const a = potad.addSpace({ base: 0, size: 16 * MiB, granule: 4096 });
        const b = potad.addSpace({ base: 16 * MiB + 8192, size: 3 * MiB, granule: 512 });
        const live: number[] = [];
        allocs.forEach((spec, i) => {
          const space = i % 2 === 0 ? a : b;
          const size = 4096 << spec.order;
          const options = { descriptor: spec.descriptor ? i : undefined, alignment: spec.contiguous ? 4096 : undefined };
          const address = potad.alloc(space, spec.contiguous ? size * 3 : size, options);
          if (address >= 0) live.push(address);
        });
        const bytes = arena.bytes;
        const allocations = arena.allocations;
        order.forEach((pick) => {
          if (live.length === 0) return;
          const [address] = live.splice(pick % live.length, 1);
          arena.sealWhile(() => potad.free(address!));
        });
        for (const address of live) arena.sealWhile(() => potad.free(address));
        arena.sealWhile(() => potad.drain()); // merging what the fronts hold allocates nothing either
        expect(arena.bytes).toBe(bytes);
        expect(arena.allocations).toBe(allocations);
        potad.check();
        expect(potad.blockCount).toBe(potad.stats(a).freeBlocks + potad.stats(b).freeBlocks);
      },
    ),
    { numRuns: 60 },
  );
});

test("an allocation that needs records while the arena is sealed throws and changes nothing", () => {
  const arena = new MetadataArena();
  const potad = new Potad({ arena });
  const s = potad.addSpace({ base: 0, size: 2 ** 40, granule: 4096 });
  const snapshot = () => JSON.stringify({ blocks: potad.blockCount, stats: potad.stats(s) });
  let thrown: unknown;
  let before = "";
  arena.sealWhile(() => {
    for (let i = 0; i < 1000 && thrown === undefined; i++) {
      before = snapshot();
      try {
        potad.alloc(s, 4096 << (i % 5));
      } catch (error) {
        thrown = error;
      }
    }
  });
  expect((thrown as { code: string }).code).toBe("ERR_ARENA_SEALED");
  expect(snapshot()).toBe(before);
  potad.check();
});
