/**
 * What a misbehaving callback did. A callback that throws or returns nonsense does not stop a pass:
 * the registry clamps the answer, records one of these and goes on with the other shrinkers.
 *
 * - `count-threw`: `count` threw; the count is taken as 0 (skip).
 * - `count-invalid`: `count` returned NaN, a non-number, a negative number other than
 *   `SHRINK_EMPTY`, infinity or a fraction; taken as 0 (a fraction is floored).
 * - `scan-threw`: `scan` threw; taken as `SHRINK_STOP` (this shrinker's pass ends, nothing counted).
 * - `scan-invalid`: `scan` returned NaN, a non-number, a negative number other than `SHRINK_STOP`,
 *   infinity or a fraction; taken as 0 freed (a fraction is floored).
 * - `scan-overreported`: `scan` reported more freed than it was asked to scan and more than its
 *   count had left; clamped to the larger of the two.
 * - `scanned-invalid`: `scan` set `sc.nrScanned` outside `[0, nrToScan]` or to a non-integer;
 *   taken as `nrToScan`.
 * - `scan-limit`: one pass made `maxScanCalls` scan calls to this shrinker and still had work (a
 *   `count` its scans do not get through, e.g. a huge count whose scans free nothing); the pass
 *   stops calling it and goes on with the others. `value` is the work left, `usedInstead` 0; the
 *   work left is deferred as usual (at most twice the count).
 */
export type ShrinkerWarningKind = "count-threw" | "count-invalid" | "scan-threw" | "scan-invalid" | "scan-overreported" | "scanned-invalid" | "scan-limit";

/**
 * One recorded misbehaviour; see {@link ShrinkerWarningKind}.
 *
 * @example
 * ```ts
 * for (const w of registry.warnings()) console.log(`${w.shrinker}: ${w.message}`);
 * ```
 */
export interface ShrinkerWarning {
  /** What went wrong. */
  kind: ShrinkerWarningKind;
  /** The shrinker's name. */
  shrinker: string;
  /** The shrinker's id in this registry (its debugfs directory is `<name>-<id>`). */
  id: number;
  /** The node of the call. */
  nid: number;
  /** The reclaim priority of the call. */
  priority: number;
  /** What the callback returned or set (for a throw, what was thrown). */
  value: unknown;
  /** What the registry used instead. */
  usedInstead: number;
  /** A sentence naming the shrinker, the call and the value. */
  message: string;
}
