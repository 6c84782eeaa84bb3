import { describe, expect, test } from "vitest";
import { MemoryMap, MmkitError, describeValue } from "@mmkit/physmem";
import { HOSTILE_FACTORIES } from "@mmkit/test-support";
import { SharedBuddy, type SharedBuddyOptions } from "@mmkit/buddy";

// Hostile values in every argument position of SharedBuddy's public face (create's options, attach,
// claimCpu, cpuOwner, recoverFrom, allocPages, freePages, and a front's allocPages/freePages). Each
// call is refused with an MmkitError naming the value and leaves the shared state as it was, or is
// legitimate (-0 is 0, undefined an omitted option) and then the state passes check().

const MAP = MemoryMap.uniform(128 * 4096, { nodes: 2 });
const BASE: SharedBuddyOptions = { maxOrder: 4, pageblockOrder: 2, cpus: 2, pcpBatch: 3, pcpHigh: 8, minFreeKbytes: 0 };
const OPTION_NAMES = ["maxOrder", "pageblockOrder", "cpus", "cpuNodes", "pcpBatch", "pcpHigh", "minFreeKbytes", "watermarkScaleFactor", "groupByMobility", "stealWholeBlocks", "defaultMigratetype", "lock"] as const;

function world() {
  const shared = SharedBuddy.create(MAP, BASE);
  const front = shared.claimCpu(0);
  const live = [front.allocPages(0), front.allocPages(1), shared.allocPages(3)];
  return { shared, front, live };
}

function state(shared: SharedBuddy): string {
  return JSON.stringify({ info: shared.buddyinfo(), pcp: shared.perCpuPageCount(), free: shared.freePageCount(), counters: shared.counters(), owners: [0, 1].map((c) => shared.cpuOwner(c)) });
}

/** Refused with an MmkitError naming `v` and nothing changed, or legitimate and consistent. */
function refusedOrLegit(shared: SharedBuddy, v: unknown, call: () => unknown, legit: boolean): void {
  // -0 stands for 0: a refusal of it names 0, as the refusal of 0 would.
  const named = Object.is(v, -0) ? "0" : describeValue(v);
  const before = state(shared);
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  if (legit && error === undefined) {
    shared.check();
    return;
  }
  expect(error, `no throw for ${describeValue(v)}`).toBeInstanceOf(MmkitError);
  expect((error as Error).message).toContain(named);
  expect(state(shared)).toBe(before);
  shared.check();
}

describe("SharedBuddy: hostile values in every position", () => {
  for (const [label, make] of HOSTILE_FACTORIES) {
    test(label, () => {
      const v = make();
      const zero = Object.is(v, -0);
      for (const name of OPTION_NAMES) {
        let built: SharedBuddy | undefined;
        let error: unknown;
        try {
          built = SharedBuddy.create(MAP, { ...BASE, [name]: v });
        } catch (e) {
          error = e;
        }
        if (built !== undefined) {
          // Legitimate: an omitted option, or a number the option accepts (-0 as 0, a large minFreeKbytes).
          expect(v === undefined || typeof v === "number", `${name}: ${label} accepted`).toBe(true);
          built.check();
        } else {
          expect(error, `${name}: ${label}`).toBeInstanceOf(MmkitError);
          expect((error as Error).message, `${name}: ${label}`).toContain(describeValue(v));
        }
      }
      expect(() => SharedBuddy.attach(v as never)).toThrowError(expect.objectContaining({ code: "ERR_LAYOUT_MISMATCH", message: expect.stringContaining(describeValue(v)) }));
      const w = world();
      refusedOrLegit(w.shared, v, () => w.shared.claimCpu(v as number), zero);
      refusedOrLegit(w.shared, v, () => w.shared.cpuOwner(v as number), zero);
      refusedOrLegit(w.shared, v, () => w.shared.recoverFrom(v as number), false);
      refusedOrLegit(w.shared, v, () => w.shared.allocPages(v as number), zero);
      // pfn -0 is pfn 0, which the world may hold: legitimate then.
      refusedOrLegit(w.shared, v, () => w.shared.freePages(v as number, 0), zero);
      refusedOrLegit(w.shared, v, () => w.shared.freePages(w.live[2]!, v as number), zero);
      refusedOrLegit(w.shared, v, () => w.front.allocPages(v as number), zero);
      refusedOrLegit(w.shared, v, () => w.front.freePages(v as number, 0), zero);
      refusedOrLegit(w.shared, v, () => w.front.freePages(w.live[1]!, v as number), zero);
    });
  }
});
