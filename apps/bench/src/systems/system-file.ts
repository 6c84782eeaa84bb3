import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { addSystems, allSystems, type DescriptorTableKind, type PageAllocatorFactory, type SystemDefinition } from "./definition.js";

/**
 * Loading `--system-file` modules: a researcher's own systems and page allocators, without editing
 * the bench. The contract (apps/bench/README.md, "Your own design"):
 *
 * - `export const systems = [...]`: system definitions, each like a shipped one (`name`,
 *   `description`, `pageAllocator`, `perCpuLists`, `descriptors`, `fragmentCache`, `pteCache`,
 *   `shrinker`, optional `maxOrder`/`granule`), where `pageAllocator` is `"buddy"`, `"potad"` or a
 *   factory `{ name, create(machine) }` returning an object with `allocPages(order)` and
 *   `freePages(pfn, order)` (and optionally `check()`, `freeBlocksPerOrder()`, `stats()`);
 * - and/or `export const allocators = [factory, ...]`: page allocators on their own, each then run
 *   as a system of that name over classic's other parts (64-byte memmap, caches, shrinker).
 *
 * `.mjs`/`.js` load as they are; `.ts` loads because the bench runs under tsx.
 */

const DESCRIPTORS: readonly DescriptorTableKind[] = ["memmap-64", "memdesc-8", "maple"];
const loaded = new Map<string, SystemDefinition[]>();

function fail(file: string, what: string): never {
  throw new Error(`${file}: ${what}`);
}

function isFactory(v: unknown): v is PageAllocatorFactory {
  return typeof v === "object" && v !== null && typeof (v as PageAllocatorFactory).name === "string" && (v as PageAllocatorFactory).name !== "" && typeof (v as PageAllocatorFactory).create === "function";
}

function checkDefinition(file: string, d: unknown, at: string): SystemDefinition {
  if (typeof d !== "object" || d === null) fail(file, `${at} must be an object, got ${String(d)}`);
  const def = d as Record<string, unknown>;
  if (typeof def.name !== "string" || def.name === "") fail(file, `${at}.name must be a non-empty string, got ${JSON.stringify(def.name)}`);
  const where = `system ${JSON.stringify(def.name)}`;
  if (def.pageAllocator !== "buddy" && def.pageAllocator !== "potad" && !isFactory(def.pageAllocator)) {
    fail(file, `${where}: pageAllocator must be "buddy", "potad" or { name, create(machine) }, got ${JSON.stringify(def.pageAllocator)}`);
  }
  if (!DESCRIPTORS.includes(def.descriptors as DescriptorTableKind)) fail(file, `${where}: descriptors must be one of ${DESCRIPTORS.join(", ")}, got ${JSON.stringify(def.descriptors)}`);
  for (const key of ["perCpuLists", "fragmentCache", "pteCache", "shrinker"]) {
    if (typeof def[key] !== "boolean") fail(file, `${where}: ${key} must be true or false, got ${JSON.stringify(def[key])}`);
  }
  if (def.perCpuLists === true && def.pageAllocator !== "buddy") fail(file, `${where}: perCpuLists needs pageAllocator "buddy"`);
  for (const key of ["maxOrder", "granule"]) {
    if (def[key] !== undefined && !(Number.isSafeInteger(def[key]) && (def[key] as number) > 0)) fail(file, `${where}: ${key} must be a positive integer, got ${JSON.stringify(def[key])}`);
  }
  return { description: `${def.name} (${file})`, ...def } as unknown as SystemDefinition;
}

/**
 * Loads a system file and adds its systems beside the shipped ones (once per file and process);
 * returns the systems it added. Errors name the file and the offending field.
 *
 * @example
 * ```ts
 * const added = await loadSystemFile("examples/first-fit.mjs");
 * added.map((d) => d.name); // ["first-fit"]
 * ```
 */
export async function loadSystemFile(path: string): Promise<SystemDefinition[]> {
  const file = resolve(path);
  const known = loaded.get(file);
  if (known !== undefined) return known;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    fail(path, `cannot be loaded: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`);
  }
  const defs: SystemDefinition[] = [];
  if (mod.systems !== undefined) {
    if (!Array.isArray(mod.systems)) fail(path, `"systems" must be an array of system definitions`);
    mod.systems.forEach((d, i) => defs.push(checkDefinition(path, d, `systems[${i}]`)));
  }
  if (mod.allocators !== undefined) {
    if (!Array.isArray(mod.allocators)) fail(path, `"allocators" must be an array of { name, create(machine) }`);
    mod.allocators.forEach((a, i) => {
      if (!isFactory(a)) fail(path, `allocators[${i}] must be { name, create(machine) }, got ${JSON.stringify(a)}`);
      if (defs.some((d) => d.name === a.name)) return; // a system of that name is defined already
      defs.push({ name: a.name, description: `${a.name} (${path}) + 64-byte memmap + caches + shrinker`, pageAllocator: a, perCpuLists: false, descriptors: "memmap-64", fragmentCache: true, pteCache: true, shrinker: true });
    });
  }
  if (defs.length === 0) fail(path, `exports no "systems" and no "allocators"`);
  const taken = defs.find((d) => allSystems().some((s) => s.name === d.name));
  if (taken !== undefined) fail(path, `a system named ${JSON.stringify(taken.name)} exists already`);
  addSystems(defs);
  loaded.set(file, defs);
  return defs;
}
