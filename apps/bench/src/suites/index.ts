import type { Suite } from "../harness/types.js";

/**
 * One line of the suite registry. `load` imports the suite's module only when it runs, so running
 * one suite needs only that suite's packages built (`--suite floors` builds nothing but physmem).
 */
export interface SuiteEntry {
  /** What `--suite` selects; equal to the loaded suite's `name`. */
  name: string;
  /** One line for `--list` and `--help`; equal to the loaded suite's `description`. */
  description: string;
  /** Runs with no `--suite` flag; equal to the loaded suite's `default`. */
  default: boolean;
  /** Workspace packages the suite imports (named in the hint when loading fails because one is not built). */
  packages: readonly string[];
  load: () => Promise<Suite>;
}

/**
 * Every suite the bench knows, in the order they run. Add one line per suite; keep `name`,
 * `description` and `default` equal to the suite's own (a test checks it).
 *
 * @example
 * ```ts
 * const entry = suites.find((s) => s.name === "floors")!;
 * const suite = await entry.load();   // imports ./floors.ts now, and nothing else
 * ```
 */
export const suites: readonly SuiteEntry[] = [
  { name: "floors", description: "The floors every allocator is compared with: Int32Array free-list stack, 10k-live churn, flat page->id lookup over 1M ranges", default: true, packages: [], load: () => import("./floors.js").then((m) => m.default) },
  { name: "direct-map", description: "Random set_memory_ro/rw on pages of a physmem DirectMap: splits, DirectMap4k/2M/1G, page-table bytes, lines per change", default: true, packages: ["@mmkit/physmem"], load: () => import("./direct-map.js").then((m) => m.default) },
];
