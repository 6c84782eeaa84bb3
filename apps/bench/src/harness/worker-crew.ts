import type { Worker } from "node:worker_threads";
import { startTsWorker } from "./ts-worker.js";

/**
 * The control word of a {@link WorkerCrew} (an Int32Array over a SharedArrayBuffer): [0]
 * generation, [1] configuration (-1: exit), [2] workers that answered, [3] set by a worker that
 * failed, then the command's arguments from index {@link CREW_ARGS}.
 */
export const CREW_ARGS = 4;
const CREW_INTS = 16;

/** Long-lived worker threads the main thread drives one command at a time (see {@link startWorkerCrew}). */
export interface WorkerCrew {
  /**
   * Runs configuration `config` with `args` (at most 12) in every worker and waits until `answers`
   * of them answered; returns the wall-clock milliseconds. Throws when a worker failed (its message
   * comes from {@link close}) or none answered for 5 minutes.
   */
  run(config: number, args: readonly number[], answers: number): number;
  /** Tells the workers to exit and waits for them; throws with every failure a worker reported. */
  close(): Promise<void>;
}

/**
 * A fresh control word for {@link startWorkerCrew}; pass it to the workers in their data.
 *
 * @example
 * ```ts
 * const control = crewControl();
 * ```
 */
export function crewControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CREW_INTS * 4));
}

/**
 * Starts one worker per entry of `data` running `entry` (a TypeScript module of the bench, through
 * tsx), each given its data; the workers serve commands with `serveCrew` (workers/crew-member.ts)
 * on the `control` word their data carries. Commands go through shared memory and `Atomics`, not
 * messages, so the main thread can time them while it waits. A worker's last message is "exit" or
 * the failure it met. Cost: a worker start-up each (about a second under tsx).
 *
 * @example
 * ```ts
 * const control = crewControl();
 * const crew = startWorkerCrew("workers suite", new URL("../workers/shared-churn.ts", import.meta.url), [0, 1, 2].map((index) => ({ index, control })), control);
 * const ms = crew.run(0, [3, 20_000], 3);
 * await crew.close();
 * ```
 */
export function startWorkerCrew(name: string, entry: URL, data: readonly unknown[], control: Int32Array): WorkerCrew {
  const failures: string[] = [];
  const exited = data.map((one, index) => {
    const worker: Worker = startTsWorker(entry, one);
    worker.on("message", (m: unknown) => {
      if (typeof m === "string" && m !== "exit") failures.push(m);
    });
    return new Promise<void>((resolve, reject) => {
      worker.on("error", reject);
      worker.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`${name}: worker ${index} exited with ${code}`))));
    });
  });
  return {
    run(config, args, answers) {
      Atomics.store(control, 2, 0);
      control[1] = config;
      args.forEach((a, i) => (control[CREW_ARGS + i] = a));
      const started = performance.now();
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      for (let done = Atomics.load(control, 2); done < answers; done = Atomics.load(control, 2)) {
        Atomics.wait(control, 2, done, 1000);
        // A worker that died without answering (its error event cannot arrive while this thread waits).
        if (performance.now() - started > 300_000) throw new Error(`${name}: ${answers - Atomics.load(control, 2)} worker(s) did not finish configuration ${config} in 5 minutes`);
      }
      const ms = performance.now() - started;
      if (Atomics.load(control, 3) !== 0) throw new Error(`${name}: a worker failed (its message follows when the workers have exited)`);
      return ms;
    },
    async close() {
      control[1] = -1;
      Atomics.add(control, 0, 1);
      Atomics.notify(control, 0);
      await Promise.all(exited);
      if (failures.length > 0) throw new Error(`${name}: ${failures.join("; ")}`);
    },
  };
}
