/**
 * The contract every soak meets. A soak is a subject (an allocator, a data structure, a whole
 * system) beside a simple reference model, driven by operations drawn from a seeded generator.
 *
 * Operations are plain numbers, independent of the subject's state: a kind and two random
 * 32-bit words that the soak interprets against its state when it applies them ("free the live
 * allocation at `a % live`", "allocate order `a % 5`"). So any subsequence of a run is still a run,
 * which is what lets the runner shrink a failing run to a short one, as fast-check shrinks commands.
 */

/** One operation: `kind` indexes the soak's {@link Soak.kinds}; `a` and `b` are random unsigned 32-bit words. */
export interface Op {
  kind: number;
  a: number;
  b: number;
}

/** One kind of operation and how often the generator draws it (relative weight, a positive integer). */
export interface OpKind {
  name: string;
  weight: number;
}

/**
 * A running subject and its model, made fresh by {@link Soak.create}. Every method throws on a
 * divergence (any error: a failed comparison, a broken invariant, an unexpected exception).
 */
export interface SoakInstance {
  /**
   * Applies `op` to the subject and the model and compares what it can at once (what an
   * allocation returned, that a misuse was refused and changed nothing). With `log`, pushes one
   * line saying what the operation concretely did (used when a shrunk failing run is printed).
   */
  step(op: Op, log?: string[]): void;
  /** Runs the subject's `check()` and compares its whole observable state with the model. */
  check(): void;
  /** Gives back everything the model holds and requires that every page (object, index) came back. */
  drain(): void;
  /** Releases what the instance holds outside the heap (files, registrations). Must not throw. */
  dispose?(): void;
}

/**
 * A soak, as registered with `registerSoak`. `create(seed)` must be deterministic: the same seed and
 * the same operations always behave the same (seed any fault injection from `seed`).
 *
 * @example
 * ```ts
 * registerSoak({
 *   name: "my-allocator",
 *   package: "my-allocator",
 *   description: "alloc/free against a page-ownership map",
 *   defaultOps: 1_000_000,
 *   kinds: [{ name: "alloc", weight: 3 }, { name: "free", weight: 2 }],
 *   create: (seed) => new MyAllocatorSoak(seed),
 * });
 * ```
 */
export interface Soak {
  /** Unique; what `--only` matches first, and what the summary prints. */
  name: string;
  /** The workspace package it exercises, without the scope ("buddy", "bench"); `--only` matches it too. */
  package: string;
  /** One line for `--list` and the summary. */
  description: string;
  /** Operations of a default `pnpm soak` run (sized so every default soak together takes about 5 minutes on 2 cores). */
  defaultOps: number;
  kinds: readonly OpKind[];
  create(seed: number): SoakInstance;
}
