import { expect } from "vitest";

/**
 * What one hostile value in one argument position must do:
 * - `refuse`: throw an mmkit error with `code` whose message contains `text` (the value as the
 *   package prints it), leaving the world exactly as it was;
 * - `same`: it is a legitimate spelling of `as` (`-0` for `0`, `undefined` for a default), so the
 *   call behaves exactly as the call with `as` does on an identical world;
 * - `returns`: a query that answers `value` and changes nothing.
 *
 * @example
 * ```ts
 * const rule = (v: unknown): SweepVerdict => (Object.is(v, -0) ? same(0, "-0 is 0") : refuse("ERR_INVALID_ARGUMENT", String(v)));
 * ```
 */
export type SweepVerdict =
  | { readonly kind: "refuse"; readonly code: string; readonly text: string }
  | { readonly kind: "same"; readonly as: unknown; readonly why: string }
  | { readonly kind: "returns"; readonly value: unknown; readonly why: string };

/** {@link SweepVerdict} `refuse`. @example `refuse("ERR_OUT_OF_RANGE", "4096")` */
export const refuse = (code: string, text: string): SweepVerdict => ({ kind: "refuse", code, text });
/** {@link SweepVerdict} `same`. @example `same(0, "-0 is 0")` */
export const same = (as: unknown, why: string): SweepVerdict => ({ kind: "same", as, why });
/** {@link SweepVerdict} `returns`. @example `returns(-1, "never handed out")` */
export const returns = (value: unknown, why: string): SweepVerdict => ({ kind: "returns", value, why });

/**
 * How a sweep sees the thing under test. `make` builds the same world every time it is called (the
 * sweep builds a twin to compare against); `state` gives everything observable, comparable with
 * `toEqual`; `check` runs the invariants; `followUp`, if given, runs a few more operations on both
 * worlds after a legitimate call, so that hidden state (list order, caches) is compared too; `settle`
 * lets a world forget bookkeeping of its own that a legitimate call made stale; `result` turns a
 * return value into something comparable (default: {@link normalise}).
 *
 * @example
 * ```ts
 * const subject: SweepSubject<World> = { make: () => world(), state: (w) => w.tree.entries(), check: (w) => w.tree.check() };
 * ```
 */
export interface SweepSubject<W> {
  /** Builds a fresh world, identical on every call. */
  make(): W;
  /** Everything observable about a world, comparable with `toEqual`. */
  state(w: W): unknown;
  /** Runs every invariant check of the world (throws on a broken one). */
  check(w: W): void;
  /** More operations run on both worlds after a legitimate call; their outcome is compared. */
  followUp?(w: W): unknown;
  /** Drops a world's own bookkeeping that a legitimate call made stale (run on both worlds). */
  settle?(w: W): void;
  /** Turns a call's return value into something comparable (default {@link normalise}). */
  result?(value: unknown): unknown;
}

/**
 * One swept method: canonical valid arguments for a world, and the call. Each position of
 * `args(w)` is replaced by each hostile value in turn.
 *
 * @example
 * ```ts
 * const entry: SweepEntry<World> = { name: "store", args: () => [0, 9, 1], call: (w, a) => w.tree.store(a[0] as number, a[1] as number, a[2]) };
 * ```
 */
export interface SweepEntry<W> {
  /** The method's name, as test titles print it. */
  readonly name: string;
  /** Canonical valid arguments on world `w`. */
  args(w: W): unknown[];
  /** Calls the method with `args` on world `w`. */
  call(w: W, args: unknown[]): unknown;
}

/**
 * `-0` as `0`, deeply through arrays and plain objects, so that a legitimate `-0` compares equal
 * with the `0` it stands for.
 *
 * @example
 * ```ts
 * normalise({ a: [-0] }); // { a: [0] }
 * ```
 */
export function normalise(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(normalise);
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalise(v)]));
  }
  return value;
}

/** What a call did: its (comparable) value, or the code and message of the mmkit error it threw. */
export type SweepOutcome = { readonly value: unknown } | { readonly code: unknown; readonly message: string };

/**
 * Runs `fn` and says what it did. An mmkit error (duck-typed on its name, so this package needs no
 * runtime dependency on physmem) becomes `{ code, message }`; any other throw is rethrown, since it is
 * a bug in itself.
 *
 * @example
 * ```ts
 * sweepOutcome(() => tree.load(-1)); // { code: "ERR_INVALID_ARGUMENT", message: "…-1…" }
 * ```
 */
export function sweepOutcome(fn: () => unknown, result: (value: unknown) => unknown = normalise): SweepOutcome {
  try {
    return { value: result(fn()) };
  } catch (e) {
    if (!(e instanceof Error) || e.name !== "MmkitError") throw e;
    return { code: (e as Error & { code?: unknown }).code, message: e.message };
  }
}

/**
 * Sweeps one hostile `value` into position `pos` of `entry` on a fresh world and asserts what
 * `verdict` says, then runs `check`. On a refusal the world's state must be exactly as before; on a
 * legitimate call the outcome, the state and the follow-up must match a twin world given `as` (or
 * the answer must be `value` with nothing changed).
 *
 * @example
 * ```ts
 * for (const [label, make] of HOSTILE_FACTORIES) sweepPosition(subject, entry, 0, make(), rule(make()), `${entry.name} with ${label}`);
 * ```
 */
export function sweepPosition<W>(subject: SweepSubject<W>, entry: SweepEntry<W>, pos: number, value: unknown, verdict: SweepVerdict, where: string): void {
  const result = subject.result ?? normalise;
  const w = subject.make();
  const before = normalise(subject.state(w));
  const args = entry.args(w);
  args[pos] = value;
  if (verdict.kind === "refuse") {
    const got = sweepOutcome(() => entry.call(w, args), result);
    expect(got, `${where}: expected ${verdict.code} naming ${verdict.text}`).toMatchObject({ code: verdict.code, message: expect.stringContaining(verdict.text) });
    expect(normalise(subject.state(w)), `${where}: a refusal changed the world`).toEqual(before);
  } else if (verdict.kind === "returns") {
    expect(result(entry.call(w, args)), `${where} (${verdict.why})`).toEqual(normalise(verdict.value));
    expect(normalise(subject.state(w)), `${where}: a query changed the world`).toEqual(before);
  } else {
    const twin = subject.make();
    const canonical = entry.args(twin);
    canonical[pos] = verdict.as;
    const expected = sweepOutcome(() => entry.call(twin, canonical), result);
    expect(sweepOutcome(() => entry.call(w, args), result), `${where} (${verdict.why})`).toEqual(expected);
    subject.settle?.(w);
    subject.settle?.(twin);
    expect(normalise(subject.state(w)), where).toEqual(normalise(subject.state(twin)));
    if (subject.followUp) expect(normalise(subject.followUp(w)), `${where}: follow-up`).toEqual(normalise(subject.followUp(twin)));
  }
  subject.check(w);
}

/**
 * The simplest sweep: every value of `values` that `valid` does not accept must be refused with
 * some mmkit error, and leave the world's state as it was (`check` runs after each).
 *
 * @example
 * ```ts
 * expectEveryRefusal(subject, "malloc(size)", (w, v) => w.heap.malloc(v as number), (v) => v === Number.MAX_SAFE_INTEGER, HOSTILE_VALUES);
 * ```
 */
export function expectEveryRefusal<W>(
  subject: Pick<SweepSubject<W>, "make" | "state" | "check">,
  where: string,
  call: (w: W, value: unknown) => unknown,
  valid: (value: unknown) => boolean,
  values: ReadonlyArray<readonly [string, unknown]>,
): void {
  for (const [label, value] of values) {
    if (valid(value)) continue;
    const w = subject.make();
    const before = normalise(subject.state(w));
    let caught: unknown;
    let returned: unknown;
    try {
      returned = call(w, value);
    } catch (e) {
      caught = e;
    }
    expect(caught, `${where} accepted ${label} (returned ${String(returned)})`).toBeInstanceOf(Error);
    expect((caught as Error).name, `${where} with ${label}: ${String(caught)}`).toBe("MmkitError");
    expect(normalise(subject.state(w)), `${where} with ${label} changed the world`).toEqual(before);
    subject.check(w);
  }
}

/**
 * What one call with a hostile argument must do, in the form the cache and shrinker sweeps write it:
 * refused with `code` (or one of several) and a message that `mentions` the value, the code one the
 * README documents unless `wrapped` (an error passed through from a wrapped allocator); or legitimate,
 * behaving exactly as `same` does on a twin world.
 *
 * @example
 * ```ts
 * const o: CallOutcome<Sys> = { why: "-0 is 0", same: (s) => s.cache.alloc(0) };
 * ```
 */
export type CallOutcome<W> =
  | { readonly code: string | readonly string[]; readonly mentions: string; readonly wrapped?: boolean }
  | { readonly why: string; readonly same: (twin: W) => unknown };

/** A call's value, or what it threw (any error: the twin must throw the same). */
function settled(fn: () => unknown, result: (value: unknown) => unknown): unknown {
  try {
    return { value: result(fn()) };
  } catch (e) {
    const err = e as Error & { code?: unknown };
    return { error: { type: err.constructor.name, code: err.code, message: err.message } };
  }
}

/**
 * Runs `call` on a fresh world and asserts `outcome`: a refusal must be an mmkit error with the
 * expected code, a documented one (from `documented`) unless wrapped, naming the value, with the
 * world's state unchanged; a legitimate call must give what `same` gives on a twin, and leave the
 * same state. `check` runs after either.
 *
 * @example
 * ```ts
 * expectCallOutcome(subject, (s) => s.cache.alloc(-0), { why: "-0 is 0", same: (s) => s.cache.alloc(0) }, DOCUMENTED);
 * ```
 */
export function expectCallOutcome<W>(subject: SweepSubject<W>, call: (w: W) => unknown, outcome: CallOutcome<W>, documented: ReadonlySet<string>): void {
  const result = subject.result ?? normalise;
  const w = subject.make();
  const before = result(subject.state(w));
  if ("same" in outcome) {
    const got = settled(() => call(w), result);
    const twin = subject.make();
    expect(got, outcome.why).toEqual(settled(() => outcome.same(twin), result));
    expect(result(subject.state(w)), outcome.why).toEqual(result(subject.state(twin)));
    subject.check(w);
    return;
  }
  let error: unknown;
  try {
    call(w);
  } catch (e) {
    error = e;
  }
  expect(error, "expected a typed error").toBeInstanceOf(Error);
  const { name, code, message } = error as Error & { code: string };
  expect(name, String(error)).toBe("MmkitError");
  if (outcome.wrapped !== true) expect(documented.has(code), `undocumented code ${code}`).toBe(true);
  expect(typeof outcome.code === "string" ? [outcome.code] : outcome.code).toContain(code);
  expect(message).toContain(outcome.mentions);
  expect(result(subject.state(w)), "a refusal changed the world").toEqual(before);
  subject.check(w);
}
