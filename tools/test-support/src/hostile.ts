/**
 * The hostile arguments every bad-input sweep passes in each argument position, as `[label,
 * make]` pairs: `make()` gives a fresh value (a new `{}` or `[]` per call, so no case can see
 * another's object). Labels are stable names for test titles.
 *
 * @example
 * ```ts
 * for (const [label, make] of HOSTILE_FACTORIES) expectRefused(() => cache.free(make() as number), label);
 * ```
 */
export const HOSTILE_FACTORIES: ReadonlyArray<readonly [string, () => unknown]> = [
  ["NaN", () => Number.NaN],
  ["-0", () => -0],
  ["-1", () => -1],
  ["0.5", () => 0.5],
  ["2**53", () => 2 ** 53],
  ["Infinity", () => Number.POSITIVE_INFINITY],
  ["-Infinity", () => Number.NEGATIVE_INFINITY],
  ["undefined", () => undefined],
  ["null", () => null],
  ['"3"', () => "3"],
  ["{}", () => ({})],
  ["[]", () => []],
  ["1n", () => BigInt(1)],
  ["MAX_SAFE_INTEGER", () => Number.MAX_SAFE_INTEGER],
];

/** {@link HOSTILE_FACTORIES} made once: `[label, value]` pairs. */
export const HOSTILE_VALUES: ReadonlyArray<readonly [string, unknown]> = HOSTILE_FACTORIES.map(([label, make]) => [label, make()] as const);
