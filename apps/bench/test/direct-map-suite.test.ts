import { GiB, MiB } from "@mmkit/physmem";
import { beforeAll, describe, expect, test } from "vitest";
import { createContext } from "../src/harness/runner.js";
import type { Measurement } from "../src/harness/types.js";
import suite from "../src/suites/direct-map.js";
import { DEFAULT_SEED, randomIndices } from "../src/workloads/random.js";

// The quick run: 1024 random pages of a 4 GiB machine (1M pages), the first 256 of them probed.
const PAGES = (4 * GiB) / 4096;
const pfns = randomIndices(DEFAULT_SEED, "direct-map", 1024, PAGES);
const distinct = (list: ArrayLike<number>, shift: number) => new Set(Array.from(list, (p) => Math.floor(p / 2 ** shift))).size;
const regions2M = distinct(pfns, 9);
const regions1G = distinct(pfns, 18);

let measurements: Measurement[] = [];
const value = (system: string, metric: string, note?: string) => {
  const found = measurements.filter((m) => m.system === system && m.metric === metric && (note === undefined || m.note?.includes(note)));
  expect(found, `${system} / ${metric}`).toHaveLength(1);
  return found[0]!.value;
};

beforeAll(async () => {
  const into = { measurements: [] as Measurement[], log: [] as string[] };
  await suite.run(createContext("direct-map", { quick: true, seed: DEFAULT_SEED }, into));
  measurements = into.measurements;
});

describe("direct-map suite (quick, default seed)", () => {
  test("one 2M split per distinct 2 MiB region touched, one 1G split per 1 GiB region", () => {
    expect(regions2M).toBe(794);
    expect(regions1G).toBe(4);
    for (const system of ["DirectMap", "DirectMap (collapse)"]) {
      expect(value(system, "2M splits")).toBe(regions2M);
      expect(value(system, "1G splits")).toBe(regions1G);
      expect(value(system, "splits/change")).toBe((regions2M + regions1G) / 1024);
      expect(value(system, "DirectMap4k (ro)")).toBe(regions2M * 2 * MiB);
      expect(value(system, "DirectMap2M (ro)")).toBe((4 * 512 - regions2M) * 2 * MiB);
      expect(value(system, "DirectMap1G (ro)")).toBe(0);
      expect(value(system, "page tables (ro)")).toBe((regions1G + regions2M) * 4096);
    }
  });

  test("restoring keeps the splits, unless tables collapse back", () => {
    expect(value("DirectMap", "DirectMap4k (rw)")).toBe(regions2M * 2 * MiB);
    expect(value("DirectMap", "page tables (rw)")).toBe((regions1G + regions2M) * 4096);
    expect(value("DirectMap (collapse)", "DirectMap4k (rw)")).toBe(0);
    expect(value("DirectMap (collapse)", "page tables (rw)")).toBe(0);
  });

  test("probe: 129 lines to split a 1G and a 2M leaf, 66 for a 2M leaf, 3 in split tables", () => {
    const probed = pfns.subarray(0, 256);
    const s = distinct(probed, 9);
    const g = distinct(probed, 18);
    expect(value("DirectMap", "lines/ro change", "that split")).toBe((g * 129 + (s - g) * 66) / s);
    expect(value("DirectMap", "lines/ro change", "in split tables")).toBe(3);
    expect(value("DirectMap", "lines/rw change")).toBe(3);
    expect(value("DirectMap", "lines, worst")).toBe(129);
    // With collapse every ro splits 1G and 2M; every rw scans both tables to fold them back.
    expect(value("DirectMap (collapse)", "lines/ro change", "that split")).toBe(129);
    expect(value("DirectMap (collapse)", "lines/rw change")).toBe(129);
  });

  test("times each direct map against the flat floor, ratio recorded", () => {
    const timed = measurements.filter((m) => m.metric === "ns/op");
    expect(timed.map((m) => m.system)).toEqual(["flat Uint8Array", "DirectMap", "flat Uint8Array", "DirectMap (collapse)"]);
    for (const m of timed) {
      expect(m.ratioTo).toBe("flat Uint8Array");
      expect(m.value).toBeGreaterThan(0);
    }
  });
});
