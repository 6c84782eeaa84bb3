import { describe, expect, test } from "vitest";
import { runSuiteInProcess } from "../src/harness/isolate.js";
import { DEFAULT_SEED } from "../src/workloads/random.js";

describe("runSuiteInProcess", () => {
  test("runs a suite in a child process and returns the same kind of result as in-process", async () => {
    const result = await runSuiteInProcess("direct-map", "d", { suite: [], quick: true, list: false, seed: DEFAULT_SEED });
    expect(result.error).toBeUndefined();
    expect(result.name).toBe("direct-map");
    // Counts are deterministic for a seed: 1024 random pages of 4 GiB in quick mode hit 794 2 MiB regions.
    const splits = result.measurements.find((m) => m.metric === "2M splits" && m.system === "DirectMap");
    expect(splits?.value).toBe(794);
  });

  test("a suite that cannot run becomes a failed result, not a crash", async () => {
    const result = await runSuiteInProcess("no-such-suite", "d", { suite: [], quick: true, list: false, seed: DEFAULT_SEED });
    expect(result.error).toMatch(/no-such-suite exited with code 2/);
    expect(result.measurements).toEqual([]);
  });
});
