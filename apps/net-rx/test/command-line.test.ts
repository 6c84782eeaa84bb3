import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { USAGE, parseNetRxArgs } from "../src/command-line.js";

const appDir = fileURLToPath(new URL("..", import.meta.url));

describe("net-rx command line", () => {
  test("defaults, flags, --help", () => {
    expect(parseNetRxArgs([])).toEqual({ options: { mb: 64, fragSize: 2048, seed: 1, inline: false, adaptive: false } });
    expect(parseNetRxArgs(["--mb", "0.5", "--frag-size", "1500", "--seed", "7", "--inline"])).toEqual({ options: { mb: 0.5, fragSize: 1500, seed: 7, inline: true, adaptive: false } });
    expect(parseNetRxArgs(["--adaptive", "--frag-size", "512"])).toEqual({ options: { mb: 64, fragSize: 512, seed: 1, inline: false, adaptive: true } });
    expect(parseNetRxArgs(["--help"])).toEqual({ exit: 0, stdout: USAGE });
    expect(parseNetRxArgs(["-h", "--mb", "9999"])).toEqual({ exit: 0, stdout: USAGE });
  });

  test("a bad flag is an error naming it, then the usage; exit 2", () => {
    const cases: [string[], string][] = [
      [["--mb", "0"], 'error: --mb must be more than 0 and at most 4096, got "0"'],
      [["--mb", "lots"], 'error: --mb must be more than 0 and at most 4096, got "lots"'],
      [["--frag-size", "40000"], 'error: --frag-size must be an integer in 1..32768, got "40000"'],
      [["--seed", "1.5"], 'error: --seed must be an integer in [0, 4294967295], got "1.5"'],
      [["--bogus"], "error: Unknown option '--bogus'"],
    ];
    for (const [args, first] of cases) {
      const r = parseNetRxArgs(args);
      expect(r).toMatchObject({ exit: 2 });
      const text = (r as { stderr: string }).stderr;
      expect(text.split("\n")[0]).toContain(first);
      expect(text.endsWith(USAGE)).toBe(true);
    }
  });

  test("the program prints its usage for --help, and a bad flag without a stack trace", () => {
    const help = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts", "--help"], { cwd: appDir, encoding: "utf8", timeout: 30_000 });
    expect([help.status, help.stdout, help.stderr]).toEqual([0, USAGE, ""]);
    const bad = spawnSync(process.execPath, ["--import", "tsx", "src/main.ts", "--frag-size", "x"], { cwd: appDir, encoding: "utf8", timeout: 30_000 });
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toBe(`error: --frag-size must be an integer in 1..32768, got "x"\n\n${USAGE}`);
  });
});
