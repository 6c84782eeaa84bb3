import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { selectSuites } from "../src/command.js";
import { suites } from "../src/suites/index.js";

const fileOf = (name: string) => fileURLToPath(new URL(`../src/suites/${name}.ts`, import.meta.url));

describe("suite registry", () => {
  test("names are unique, lower-case words joined by '-'", () => {
    const names = suites.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  test("floors and direct-map are registered and run by default", () => {
    expect(selectSuites([]).map((s) => s.name)).toEqual(expect.arrayContaining(["floors", "direct-map"]));
  });

  test("every suite whose file exists loads, and matches its registry line", async () => {
    const present = suites.filter((s) => existsSync(fileOf(s.name)));
    expect(present.map((s) => s.name)).toEqual(expect.arrayContaining(["floors", "direct-map"]));
    for (const entry of present) {
      const suite = await entry.load();
      expect({ name: suite.name, description: suite.description, default: suite.default }).toEqual({ name: entry.name, description: entry.description, default: entry.default });
      expect(typeof suite.run).toBe("function");
      expect(suite.description.length).toBeGreaterThan(0);
    }
  });

  test("selectSuites keeps registry order and rejects unknown names", () => {
    expect(selectSuites(["direct-map", "floors"]).map((s) => s.name)).toEqual(["floors", "direct-map"]);
    expect(() => selectSuites(["nope"])).toThrow(/unknown suite "nope"; the suites are: .*\bfloors\b/);
  });
});
