import { describe, expect, test } from "vitest";
import { silentProgress } from "../../src/harness/progress.js";
import { runSuite } from "../../src/harness/runner.js";
import type { Measurement } from "../../src/harness/types.js";
import suite, { QUESTIONS } from "../../src/suites/answers.js";

describe("the answers suite", async () => {
  const result = await runSuite(suite, { quick: true, seed: 0x6d6d6b74, progress: silentProgress });
  const find = (system: string, metric: string, workloadStart = ""): Measurement =>
    result.measurements.find((m) => m.system === system && m.metric === metric && m.workload.startsWith(workloadStart))!;
  const answers = result.measurements.filter((m) => m.metric === "answer");

  test("runs by default, without failing, and answers all seven questions", () => {
    expect(suite.default).toBe(true);
    expect(result.error).toBeUndefined();
    expect(answers.map((a) => a.workload)).toEqual(["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7"]);
    expect(QUESTIONS).toHaveLength(7);
    for (let i = 0; i < 7; i++) {
      expect(result.log).toContain(`Q${i + 1}. ${QUESTIONS[i]}`);
      expect(result.log).toContain(`  ${answers[i]!.note}`);
    }
  });

  test("each answer's figure is derived from measurements of the same run", () => {
    const [q1, q2, q3, q4, q5, q6, q7] = answers as [Measurement, Measurement, Measurement, Measurement, Measurement, Measurement, Measurement];
    expect(q1.value).toBe(find("memdesc", "ns/op", "order-0").value / find("classic", "ns/op", "order-0").value);
    expect(q1.note).toContain(`${find("memdesc", "metadata/page").value.toFixed(1)} B of metadata per 4 KiB page against ${find("classic", "metadata/page").value.toFixed(1)} B`);
    expect(q2.value).toBe(find("memdesc", "ns/op", "memory-failure").value / find("classic", "ns/op", "memory-failure").value);
    expect(q3.value).toBe(find("memdesc", "lines/op allocator").value / find("classic", "lines/op allocator").value);
    expect(q4.value).toBe(find("memdesc", "ns/op", "IMIX").value / find("classic", "ns/op", "IMIX").value);
    expect(q5.value).toBe(find("classic -pte", "2M splits", "PTE-mapped").value - find("classic", "2M splits", "PTE-mapped").value);
    expect(q5.value).toBeGreaterThan(0);
    expect(q6.value).toBe(find("classic", "metadata allocated").value + find("memdesc", "metadata allocated").value);
    expect(q6.note!.startsWith(q6.value === 0 ? "Yes:" : "No:")).toBe(true);
    expect(q7.value).toBe(find("buddy, direct compaction (max order 11)", "served").value / find("POTAD (halving fallback)", "served").value);
    expect(find("buddy, neither (classic, max order 10)", "served").value).toBe(0);
    expect(q7.note).toContain("POTAD has no migration");
  });
});
