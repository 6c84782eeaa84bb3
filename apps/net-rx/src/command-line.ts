// The command line of `pnpm --filter @mmkit/net-rx start`: flags, their checks, and the usage text.
import { parseArgs } from "node:util";

/** What the command line asks for. */
export interface NetRxOptions {
  /** MiB to send, in (0, 4096]. */
  mb: number;
  /** Bytes per read buffer (fragment), 1..32768. */
  fragSize: number;
  /** Seed of the byte stream. */
  seed: number;
  /** Free each fragment inside its read callback. */
  inline: boolean;
  /** Size the read buffers to the reads (doubling on a full read, halving below a quarter, 256..32768). */
  adaptive: boolean;
}

/** The usage text `--help` prints (and a usage error ends with). */
export const USAGE = `usage: pnpm --filter @mmkit/net-rx start [-- flags]

Receives a stream over TCP on 127.0.0.1 into fragment-cache buffers and prints throughput and the
cache's statistics. Exit code 0; 1 when a byte, a fragment or a page went missing; 2 for a bad flag.

flags:
  --mb <n>              MiB to send, more than 0 and at most 4096 (default 64)
  --frag-size <bytes>   bytes per read buffer, 1..32768 (default 2048)
  --seed <n>            seed of the byte stream, an integer in [0, 2^32) (default 1)
  --inline              free each fragment inside its read callback (used-up blocks recycle in place)
  --adaptive            size the read buffers to the reads, from --frag-size: a full read doubles
                        the next buffer (up to 32768), one under a quarter full halves it (down to 256)
  -h, --help            print this and exit
`;

/**
 * Parses the arguments after `main.ts`: the options, or what to print and the exit code (`--help`:
 * the usage on stdout, 0; a bad flag: the error and the usage on stderr, 2). Never throws. O(args).
 *
 * @example
 * ```ts
 * parseNetRxArgs(["--mb", "8"]);   // { options: { mb: 8, fragSize: 2048, seed: 1, inline: false, adaptive: false } }
 * parseNetRxArgs(["--help"]);      // { exit: 0, stdout: USAGE }
 * ```
 */
export function parseNetRxArgs(args: readonly string[]): { options: NetRxOptions } | { exit: 0; stdout: string } | { exit: 2; stderr: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        mb: { type: "string", default: "64" },
        "frag-size": { type: "string", default: "2048" },
        seed: { type: "string", default: "1" },
        inline: { type: "boolean", default: false },
        adaptive: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    return { exit: 2, stderr: `error: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}` };
  }
  if (values.help) return { exit: 0, stdout: USAGE };
  const mb = Number(values.mb);
  const fragSize = Number(values["frag-size"]);
  const seed = Number(values.seed);
  const problem =
    !(mb > 0 && mb <= 4096) ? `--mb must be more than 0 and at most 4096, got ${JSON.stringify(values.mb)}`
    : !Number.isInteger(fragSize) || fragSize < 1 || fragSize > 32768 ? `--frag-size must be an integer in 1..32768, got ${JSON.stringify(values["frag-size"])}`
    : !Number.isInteger(seed) || seed < 0 || seed > 0xffffffff ? `--seed must be an integer in [0, 4294967295], got ${JSON.stringify(values.seed)}`
    : undefined;
  if (problem !== undefined) return { exit: 2, stderr: `error: ${problem}\n\n${USAGE}` };
  return { options: { mb, fragSize, seed, inline: values.inline, adaptive: values.adaptive } };
}
