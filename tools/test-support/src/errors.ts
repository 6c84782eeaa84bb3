import { expect } from "vitest";

/**
 * Asserts that `fn` throws an mmkit error (an `Error` named `MmkitError`, as `@mmkit/physmem` makes
 * them) with `code` and a message containing `text` (the offending value, as the package prints
 * it). `where` labels the assertion. Returns the error for further checks. Duck-typed on the name, so this package needs no
 * runtime dependency on physmem.
 *
 * @example
 * ```ts
 * expectMmkitError(() => tree.load(1.5), "ERR_INVALID_ARGUMENT", "1.5");
 * ```
 */
export function expectMmkitError(fn: () => unknown, code: string, text: string, where = ""): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `${where}: expected an MmkitError, got ${String(caught)}`).toBeInstanceOf(Error);
  const error = caught as Error & { code?: unknown };
  expect(error.name, where).toBe("MmkitError");
  expect(error.code, where).toBe(code);
  expect(error.message, where).toContain(text);
  return error;
}
