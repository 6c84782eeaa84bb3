import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc's utime and stime (USER_HZ: 100 on every mainstream Linux). */
const USER_HZ = 100;

/**
 * CPU seconds the calling thread has used (user + system), from `/proc/thread-self/stat` (Linux;
 * a worker thread reads its own), in 10 ms ticks; NaN where there is no such file. Node 20 has no
 * per-thread CPU clock; wall-clock rates of a thread on a shared machine follow the load, its CPU
 * time does not.
 *
 * Cost: one small synchronous file read.
 *
 * @example
 * ```ts
 * const before = threadCpuSeconds();
 * parseEverything();
 * const cpu = threadCpuSeconds() - before; // NaN off Linux
 * ```
 */
export function threadCpuSeconds(): number {
  let stat: string;
  try {
    stat = readFileSync("/proc/thread-self/stat", "latin1");
  } catch {
    return Number.NaN;
  }
  // The command name (field 2) may hold blanks and parentheses: count fields after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name, fields start at 3 (state): utime is field 14, stime 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / USER_HZ : Number.NaN;
}
