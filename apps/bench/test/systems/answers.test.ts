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
  // An answer's note is its question, a newline, and the measured answer.
  const sentence = (m: Measurement): string => m.note!.slice(m.note!.indexOf("\n") + 1);

  test("runs by default, without failing, and answers all eight questions, each stated as its question and the answer", () => {
    expect(suite.default).toBe(true);
    expect(result.error).toBeUndefined();
    expect(answers.map((a) => a.workload)).toEqual(["Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q8"]);
    expect(QUESTIONS).toHaveLength(8);
    for (let i = 0; i < 8; i++) {
      expect(answers[i]!.note!.startsWith(`${QUESTIONS[i]}\n`)).toBe(true);
      expect(result.log).toContain(`Q${i + 1}. ${QUESTIONS[i]}`);
      expect(result.log).toContain(`  ${sentence(answers[i]!)}`);
    }
  });

  test("each answer's figure is derived from measurements of the same run", () => {
    const [q1, q2, q3, q4, q5, q6, q7, q8] = answers as [Measurement, Measurement, Measurement, Measurement, Measurement, Measurement, Measurement, Measurement];
    expect(q1.value).toBe(find("memdesc", "ns/op", "order-0").value / find("classic", "ns/op", "order-0").value);
    expect(sentence(q1)).toContain(`${find("memdesc", "metadata/page").value.toFixed(1)} B of metadata per 4 KiB page against ${find("classic", "metadata/page").value.toFixed(1)} B`);
    expect(q2.value).toBe(find("memdesc", "ns/op", "memory-failure").value / find("classic", "ns/op", "memory-failure").value);
    expect(q3.value).toBe(find("memdesc", "lines/op allocator").value / find("classic", "lines/op allocator").value);
    expect(q4.value).toBe(find("memdesc", "ns/op", "IMIX").value / find("classic", "ns/op", "IMIX").value);
    expect(q5.value).toBe(find("classic -pte", "2M splits", "PTE-mapped").value - find("classic", "2M splits", "PTE-mapped").value);
    expect(q5.value).toBeGreaterThan(0);
    expect(q6.value).toBe(find("classic", "metadata allocated").value + find("memdesc", "metadata allocated").value);
    expect(sentence(q6).startsWith(q6.value === 0 ? "Yes:" : "No:")).toBe(true);
    expect(q7.value).toBe(find("buddy, alloc_contig_range + migration", "served").value / find("POTAD (halving fallback)", "served").value);
    expect(q7.note).toContain("POTAD has no migration");
    // Run alone, the answers measure Q8 themselves (a short run): type-stable mode commits no violation.
    expect(q8.value).toBe(find("(b) type-stable (epochs)", "violations").value);
    expect(q8.value).toBe(0);
    expect(sentence(q8)).toContain("Figures from a short run here (2 rounds of 50,000 lookups per reader per mode)");
  });
});
