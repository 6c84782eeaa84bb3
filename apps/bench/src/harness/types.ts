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
  /**
   * Position in a series (events replayed, operations done, seconds): measurements that share
   * suite, system, workload and metric and carry `at` form one series, e.g. fragmentation over a
   * trace replay. The terminal table shows only the last point of a series; the HTML report draws it.
   */
  at?: number;
  /**
   * For a timing: the median ns/op of the same contender timed alone, back to back, after the
   * interleaved rounds (what a plain module-level loop over the same state gives). The note says
   * so when it is more than 15 % off `value` and outside the rounds' p10..p90.
   */
  alone?: number;
}

/**
 * Something timed against its peers. `setup` builds its state once (untimed) and returns the timed
 * loop: `run(ops)` performs `ops` operations and returns a number derived from them (the harness
 * consumes it, so the work cannot be optimised away). `run` is called at least once per round (a fast
 * contender beside a slow one several times) and must leave the state as it found it in steady state (for example: alloc+free pairs, or a churn that keeps the
 * live count constant).
 *
 * Give each kind of contender its own loop function, not a helper shared by different contenders:
 * no JIT type feedback is then shared between them. Write that loop at module level with its state
 * passed in as arguments (`(ops) => myLoop(allocator, slots, cursor, ops)`), and keep mutable scalars
 * in locals inside it: V8 specialises a closure's code on its captured variables only for the first
 * closure created at a site, so a loop inside `setup`'s closure runs up to 4x faster the first time a
 * contender is built in a process than the next (measured on the churn floor: 2 vs 8 ns/op).
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
  /** Operations per call of `run` (the same for every contender of one timing). */
  opsPerRound: number;
  /** Calls of `run` in each of this contender's timed slots (1 unless it is much faster than the slowest). */
  callsPerRound?: number;
  /** nsPerOp / the floor's nsPerOp, when a floor was named. */
  ratio?: number;
  /** ns/op of every timed round, in round order (for charts and for re-deriving the figures). */
  samples?: number[];
  /** Median ns/op of the empty contender in the same rounds (`harness: true`): the machinery's share of `nsPerOp`. */
  harnessNsPerOp?: number;
  /** The empty contender's spread in the same rounds. */
  harnessSpread?: number;
  /** Median ns/op of this contender timed alone after the rounds, back to back (`alone: true`). */
  aloneNsPerOp?: number;
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
  /** Position in a series (e.g. the live-set size) attached to every recorded measurement. */
  at?: number;
  /**
   * Time an empty contender in the same rounds and give every result its figure as
   * `harnessNsPerOp` (default: false in `timeContenders`, true in `SuiteContext.time`, which
   * reports it per suite).
   */
  harness?: boolean;
  /**
   * After the rounds, time each contender alone, back to back, and give it as `aloneNsPerOp`
   * (default: false in `timeContenders`, true in `SuiteContext.time`, which records it as the
   * measurement's `alone` and names it in the note where it differs by more than 15 %).
   */
  alone?: boolean;
}

/** What a suite gets from the runner. */
export interface SuiteContext {
  /** A short run: smaller machines, fewer rounds. */
  readonly quick: boolean;
  /**
   * The run's seed (`--seed`, default `DEFAULT_SEED` of `workloads/random.ts`): draw every random workload from it,
   * e.g. `new SeededRandom(ctx.seed, "buddy/churn")`, so a run can be replayed exactly.
   */
  readonly seed: number;
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
  /**
   * What the suites that ran before this one in the same `pnpm bench` recorded (empty when this
   * suite runs alone): a suite may state a conclusion from another's curve instead of measuring it again.
   * Optional, so a hand-made context in a test need not give it (the runner always does).
   */
  readonly earlier?: readonly Measurement[];
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
