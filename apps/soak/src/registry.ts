import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import type { Soak } from "./soak.js";

const registered: Soak[] = [];

/**
 * Adds a soak to what `pnpm soak` runs: one call, from `src/soaks/index.ts` (or from a test).
 * Throws `ERR_INVALID_ARGUMENT` for a soak without a name, package, kinds or `create`, or a name
 * taken already.
 *
 * Cost: O(soaks).
 *
 * @example
 * ```ts
 * registerSoak(buddySoak);
 * ```
 */
export function registerSoak(soak: Soak): void {
  if (typeof soak !== "object" || soak === null || typeof soak.name !== "string" || soak.name === "" || typeof soak.package !== "string" || typeof soak.create !== "function") {
    throw new MmkitError(ErrorCode.InvalidArgument, `a soak needs a name, a package and create(), got ${describeValue(soak)}`);
  }
  if (!Array.isArray(soak.kinds) || soak.kinds.length === 0 || soak.kinds.some((k) => !Number.isSafeInteger(k.weight) || k.weight < 1)) {
    throw new MmkitError(ErrorCode.InvalidArgument, `soak ${JSON.stringify(soak.name)} needs operation kinds with positive integer weights`);
  }
  if (!Number.isSafeInteger(soak.defaultOps) || soak.defaultOps < 1) {
    throw new MmkitError(ErrorCode.InvalidArgument, `soak ${JSON.stringify(soak.name)} defaultOps must be a positive integer, got ${describeValue(soak.defaultOps)}`);
  }
  if (registered.some((s) => s.name === soak.name)) throw new MmkitError(ErrorCode.InvalidArgument, `a soak named ${JSON.stringify(soak.name)} is registered already`);
  registered.push(soak);
}

/**
 * Removes the soak named `name` (tests that register a throwaway soak). Returns whether it was registered.
 *
 * @example
 * ```ts
 * unregisterSoak("planted-bug");
 * ```
 */
export function unregisterSoak(name: string): boolean {
  const i = registered.findIndex((s) => s.name === name);
  if (i >= 0) registered.splice(i, 1);
  return i >= 0;
}

/** Every registered soak, in registration order. */
export function registeredSoaks(): readonly Soak[] {
  return [...registered];
}

/**
 * The soaks `--only` selects: each word names a soak or a package (all its soaks; `potad` or
 * `@mmkit/potad`); none selects every soak. Throws `ERR_INVALID_ARGUMENT` naming a word that matches nothing, with the choices.
 *
 * @example
 * ```ts
 * selectSoaks(["potad", "system:classic"]);
 * ```
 */
export function selectSoaks(words: readonly string[]): Soak[] {
  if (words.length === 0) return [...registered];
  // A package may be named with its scope too: "@mmkit/potad".
  const only = words.map((w) => w.replace(/^@mmkit\//, ""));
  for (const word of only) {
    if (!registered.some((s) => s.name === word || s.package === word)) {
      const choices = [...new Set(registered.flatMap((s) => [s.name, s.package]))].join(", ");
      throw new MmkitError(ErrorCode.InvalidArgument, `--only ${JSON.stringify(word)} names no soak or package; choose from ${choices}`);
    }
  }
  return registered.filter((s) => only.includes(s.name) || only.includes(s.package));
}
