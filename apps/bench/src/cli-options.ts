/**
 * What the CLI parsed, in a file of its own: `command.ts` produces it, and the suite processes
 * (`harness/isolate.ts`, `harness/suite-process.ts`) receive it without importing the CLI.
 */

/** The options the CLI parsed. */
export interface CliOptions {
  suite: string[];
  quick: boolean;
  json?: string;
  html?: string;
  compare?: string;
  list: boolean;
  seed: number;
  /** `--system`: systems the systems and replay suites build (empty: all). */
  system?: string[];
  /** `--trace`: trace files to replay (empty: the Linux 6.1 fixture). */
  trace?: string[];
  traceFormat?: "auto" | "kernel" | "mmkit";
  traceLenient?: boolean;
  /** `--trace-synth`: synthetic traces to replay, by event count. */
  traceSynth?: number[];
  /** `--trace-memory`: MiB of RAM for systems replaying standard input (read once, so its peak is not known ahead). */
  traceMemory?: number;
  /** `--debug`: errors with their stack. */
  debug?: boolean;
  /** `--system-file`: modules adding systems and page allocators of the user's own. */
  systemFile?: string[];
  /** `--snapshots <dir>` (a directory of /proc snapshots), or false for `--no-snapshots`. */
  snapshots?: string | false;
}
