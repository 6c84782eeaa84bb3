/**
 * The bench's contracts. A suite measures something and records {@link Measurement}s; the CLI
 * turns them into a table, JSON and HTML. This file is the stable surface suites are written to.
 */

/** One number the bench measured. The JSON report is an array of these (schema in README). */
export interface Measurement {
  /** Suite that produced it, e.g. "buddy". */
  suite: string;
  /** The system or contender measured, e.g. "buddy (per-CPU)" or "classic". */
  system: string;
  /** The workload, e.g. "order-0 alloc+free". */
  workload: string;
  /** What was measured, e.g. "ns/op", "lines/op", "splits", "metadata bytes/page". */
  metric: string;
  value: number;
  /** Unit of `value`: "ns", "lines", "bytes", "ratio", "count", "%"... */
  unit: string;
  /** Relative spread of a timing (p90 - p10) / median, when the figure is a median of rounds. */
  spread?: number;
  /** `value` divided by the floor's value measured in the same run, when there is a floor. */
  ratio?: number;
  /** Name of the floor `ratio` is taken against. */
  ratioTo?: string;
  /** Free-form remark shown in the table (e.g. "target <= 3x"). */
  note?: string;
}

/**
 * Something timed against its peers. `setup` builds its state once (untimed) and returns the timed
 * loop: `run(ops)` performs `ops` operations and returns a number derived from them (the harness
 * consumes it, so the work cannot be optimised away). `run` is called once per round and must leave
 * the state as it found it in steady state (for example: alloc+free pairs, or a churn that keeps the
 * live count constant).
 *
 * Write the loop inside the closure `setup` returns, not in a shared helper: each contender then has
 * its own compiled loop and no JIT type feedback is shared between contenders.
 */
export interface Contender {
  name: string;
  setup(): (ops: number) => number;
}

/** What timing one contender produced. */
export interface TimingResult {
  name: string;
  /** Median ns per operation over the rounds. */
  nsPerOp: number;
  p10: number;
  p90: number;
  /** (p90 - p10) / median. */
  spread: number;
  rounds: number;
  opsPerRound: number;
  /** nsPerOp / the floor's nsPerOp, when a floor was named. */
  ratio?: number;
}

/** Options for {@link SuiteContext.time}. */
export interface TimeOptions {
  /** Name of the contender in the list that is the floor; every result gets a ratio to it. */
  floor?: string;
  /** Operations per round (default: calibrated so a round takes about `targetMs`). */
  ops?: number;
  /** Target milliseconds per contender per round when calibrating (default 4 quick, 12 full). */
  targetMs?: number;
  /** Rounds (default 10 quick, 15 full; never fewer than 10). */
  rounds?: number;
  /** Record ns/op measurements under this suite/workload (default true). */
  record?: boolean;
  /** Note attached to every recorded measurement. */
  note?: string;
}

/** What a suite gets from the runner. */
export interface SuiteContext {
  /** A short run: smaller machines, fewer rounds. */
  readonly quick: boolean;
  /**
   * Times `contenders` interleaved (warm-up, then every round runs each contender once in a rotated
   * order), records "ns/op" per contender (with ratio to the floor when named) and returns the results.
   */
  time(workload: string, contenders: Contender[], options?: TimeOptions): TimingResult[];
  /** Records one measurement under this suite. */
  record(measurement: Omit<Measurement, "suite">): void;
  /** Reports progress of a long step; the runner draws a bar. */
  progress(label: string, done: number, total: number): void;
  /** Logs a line under the suite's table (a finding, a caveat). */
  log(line: string): void;
}

/** A named group of measurements, selected with `--suite <name>`. */
export interface Suite {
  name: string;
  /** One line for `--help` and the report. */
  description: string;
  /** Runs by default with no `--suite` flag (keep the default run around a minute). */
  default: boolean;
  run(ctx: SuiteContext): void | Promise<void>;
}
