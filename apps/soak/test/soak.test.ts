import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { main } from "../src/command.js";
import { LivePicker, PageOwners, registerSoak, registeredSoaks, replay, runSoak, selectSoaks, unregisterSoak, type Op, type Soak } from "../src/index.js";
import "../src/soaks/index.js";

/**
 * A soak with a planted defect: a LIFO slot allocator whose free of slot 2 pushes it twice, so slot 2
 * goes out twice. The shortest failing run is exactly: three allocations (slots 0, 1, 2), the free of
 * slot 2 (the third live one), and two allocations.
 */
function plantedBug(): Soak {
  const kinds = [
    { name: "alloc", weight: 3 },
    { name: "free", weight: 2 },
  ];
  return {
    name: "planted-bug",
    package: "test",
    description: "a slot allocator whose free of slot 2 pushes it twice",
    defaultOps: 1000,
    kinds,
    create: () => {
      const free = [7, 6, 5, 4, 3, 2, 1, 0];
      const owners = new PageOwners(8);
      const live = new LivePicker<number>();
      return {
        step(op: Op, log?: string[]) {
          if (op.kind === 0) {
            const slot = free.pop();
            log?.push(`alloc -> ${slot ?? -1}`);
            if (slot === undefined) return;
            owners.take(slot, 1, slot + 1);
            live.add(slot);
          } else {
            const slot = live.take(op.a);
            if (slot === undefined) return;
            log?.push(`free ${slot}`);
            owners.give(slot, 1, slot + 1);
            free.push(slot);
            if (slot === 2) free.push(slot); // the defect
          }
        },
        check() {},
        drain() {
          for (const slot of live.takeAll()) owners.give(slot, 1, slot + 1);
        },
      };
    },
  };
}

describe("pnpm soak", () => {
  test("every registered soak passes a short run (seconds), with check() every 50 operations", () => {
    const names = registeredSoaks().map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(["buddy", "potad"]));
    for (const soak of registeredSoaks()) {
      const result = runSoak(soak, { ops: 3000, seed: 11, checkEvery: 50 });
      expect(result.failure, `${soak.name}: ${result.failure?.message}\n${result.failure?.trace.join("\n")}`).toBeNull();
      expect(result.ops).toBe(3000);
      expect(result.checks).toBe(61);
    }
  });

  describe("a divergence", () => {
    beforeAll(() => registerSoak(plantedBug()));
    afterAll(() => unregisterSoak("planted-bug"));

    test("is found, and shrunk to the shortest failing sequence", () => {
      const result = runSoak(selectSoaks(["planted-bug"])[0]!, { ops: 1000, seed: 5 });
      const f = result.failure!;
      expect(f).not.toBeNull();
      expect(f.seed).toBe(5);
      expect(f.message).toContain("page 2 handed out while allocation 3 holds it");
      expect(f.shortest.map((op) => op.kind)).toEqual([0, 0, 0, 1, 0, 0]);
      expect(f.trace).toEqual(["alloc -> 0", "alloc -> 1", "alloc -> 2", "free 2", "alloc -> 2", "alloc -> 2"]);
      expect(f.shortest.every((op) => op.b === 0)).toBe(true);
    });

    test("the printed sequence has one line per operation, a step with nothing to act on included", () => {
      const trace: string[] = [];
      const error = replay(plantedBug(), 5, [{ kind: 1, a: 0, b: 0 }, { kind: 0, a: 0, b: 0 }, { kind: 1, a: 0, b: 0 }, { kind: 1, a: 0, b: 0 }], 1, trace);
      expect(error).toBeNull();
      expect(trace).toEqual(["(nothing to do)", "alloc -> 0", "free 0", "(nothing to do)"]);
    });

    test("makes the command print the seed and the sequence, and exit 1", () => {
      let out = "";
      const code = main(["--only", "planted-bug", "--ops", "1000", "--seed", "5"], { out: (t) => void (out += t), err: (t) => void (out += t) });
      expect(code).toBe(1);
      expect(out).toContain("planted-bug diverged: seed 0x5 (5)");
      expect(out).toContain("shortest failing sequence: 6 operation(s)");
      expect(out).toContain("reproduce: pnpm soak --only planted-bug --seed 5 --ops");
    });
  });

  test("registration: --only by soak, package or scoped package; bad soaks refused", () => {
    expect(selectSoaks(["@mmkit/bench"]).map((s) => s.name)).toEqual(["system:classic", "system:memdesc", "system:buddy+maple", "system:potad+memmap", "system:potad+memdesc8"]);
    // "buddy" names a soak and a package: the buddy soak and every soak of @mmkit/buddy.
    expect(selectSoaks(["buddy", "system:memdesc"]).map((s) => s.name)).toEqual(["buddy", "shared-buddy", "system:memdesc"]);
    const base = plantedBug();
    expect(() => registerSoak({ ...base, name: "buddy" })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining('"buddy" is registered already') }));
    expect(() => registerSoak({ ...base, kinds: [] })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => registerSoak({ ...base, kinds: [{ name: "x", weight: 0.5 }] })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(() => registerSoak({ ...base, defaultOps: 0 })).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT", message: expect.stringContaining("defaultOps") }));
    expect(() => registerSoak(null as never)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARGUMENT" }));
    expect(registeredSoaks().some((s) => s.name === "planted-bug")).toBe(false);
  });

  test("the command: --list, a passing run with ops/s, usage errors", () => {
    let out = "";
    const io = { out: (t: string) => void (out += t), err: (t: string) => void (out += t) };
    expect(main(["--list"], io)).toBe(0);
    for (const s of registeredSoaks()) expect(out).toContain(s.name);
    out = "";
    expect(main(["--only", "buddy", "--ops", "2000"], io)).toBe(0);
    expect(out).toMatch(/ok {3}buddy +2000 ops +[\d.]+ s +[\d,]+ ops\/s/);
    expect(out).toContain("all passed");
    out = "";
    expect(main(["--only", "nonesuch"], io)).toBe(2);
    expect(out).toContain('--only "nonesuch" names no soak or package');
    expect(main(["--ops", "0"], io)).toBe(2);
    expect(main(["stray"], io)).toBe(2);
  });
});
