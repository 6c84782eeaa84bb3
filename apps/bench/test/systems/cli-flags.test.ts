import { resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { parseCommandLine } from "../../src/command.js";
import { DEFAULT_TRACE, selectedSystems, selectedTraces, setSystemSelection, systemSelection } from "../../src/systems/index.js";

function collect(): { io: { out: (t: string) => void; err: (t: string) => void }; err: string[] } {
  const err: string[] = [];
  return { io: { out: () => {}, err: (t) => void err.push(t) }, err };
}

describe("--system, --trace, --trace-format, --trace-lenient", () => {
  test("parse into the options, and --trace alone selects the replay suite", () => {
    const { io } = collect();
    const parsed = parseCommandLine(["--trace", "fixtures/traces/mmkit-basic.trace", "--trace-format", "mmkit", "--trace-lenient", "--system", "classic,memdesc"], io);
    if (typeof parsed === "number") throw new Error(`exit ${parsed}`);
    expect(parsed.options.system).toEqual(["classic", "memdesc"]);
    expect(parsed.options.trace).toEqual([resolve(process.env.INIT_CWD ?? process.cwd(), "fixtures/traces/mmkit-basic.trace")]);
    expect([parsed.options.traceFormat, parsed.options.traceLenient]).toEqual(["mmkit", true]);
    expect(parsed.entries.map((e) => e.name)).toEqual(["replay"]);
    const withSuite = parseCommandLine(["--trace", "fixtures/traces/mmkit-basic.trace", "--suite", "systems"], io);
    expect(typeof withSuite !== "number" && withSuite.entries.map((e) => e.name)).toEqual(["systems"]);
  });

  test("an unknown system or a missing trace file is a usage error naming it", () => {
    const a = collect();
    expect(parseCommandLine(["--system", "classic,nope"], a.io)).toBe(2);
    expect(a.err.join("")).toContain('unknown system "nope"; the systems are: classic, memdesc, buddy+maple, potad+memmap, potad+memdesc8');
    const b = collect();
    expect(parseCommandLine(["--trace", "no-such.trace"], b.io)).toBe(2);
    expect(b.err.join("")).toContain("no such trace file");
    expect(b.err.join("")).toContain("no-such.trace");
    const c = collect();
    expect(parseCommandLine(["--trace-format", "perf"], c.io)).toBe(2);
  });

  test("the selection defaults to every system and the 6.1 fixture", () => {
    const saved = systemSelection();
    setSystemSelection({ systems: [], traces: [], traceFormat: "auto", traceLenient: false });
    expect(selectedSystems().map((s) => s.name)).toEqual(["classic", "memdesc", "buddy+maple", "potad+memmap", "potad+memdesc8"]);
    expect(selectedTraces()).toEqual([DEFAULT_TRACE]);
    setSystemSelection({ systems: ["memdesc"], traces: ["a.txt"], traceFormat: "kernel", traceLenient: true });
    expect(selectedSystems().map((s) => s.name)).toEqual(["memdesc"]);
    expect(selectedTraces()).toEqual(["a.txt"]);
    setSystemSelection(saved);
  });
});
