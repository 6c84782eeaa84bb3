import { expect } from "vitest";

/**
 * Asserts that `fn` throws an mmkit error (an `Error` named `MmkitError`, as `@mmkit/physmem` makes
 * them) with `code` and a message containing `text` (the offending value, as the package prints
 * it). Returns the error for further checks. Duck-typed on the name, so this package needs no
 * runtime dependency on physmem.
 *
 * @example
 * ```ts
 * expectMmkitError(() => tree.load(1.5), "ERR_INVALID_ARGUMENT", "1.5");
 * ```
 */
export function expectMmkitError(fn: () => unknown, code: string, text: string): Error {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, "expected a throw").toBeInstanceOf(Error);
  const error = caught as Error & { code?: unknown };
  expect(error.name).toBe("MmkitError");
  expect(error.code).toBe(code);
  expect(error.message).toContain(text);
  return error;
}
