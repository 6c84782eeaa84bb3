/**
 * The worker's side of a crew (harness/worker-crew.ts): sleep on the control word, run each
 * command, answer, until told to exit.
 */
import { CREW_ARGS } from "../harness/worker-crew.js";

/**
 * Serves the crew's commands until the exit command: `step(config, args)` runs each (args: the
 * command's arguments) and returns whether this worker answers it (one that sits a command out
 * returns false). A failure (thrown by `step`, or `failure` given at the start, e.g. when attaching
 * failed) is reported through the control word at once and every later command is answered without
 * running. Returns the failure, or null, for the worker's last message.
 *
 * @example
 * ```ts
 * const failure = serveCrew(d.control, (config, args) => run(config, args[0]!));
 * parentPort!.postMessage(failure ?? "exit");
 * ```
 */
export function serveCrew(control: Int32Array, step: (config: number, args: Int32Array) => boolean, failure: string | null = null): string | null {
  const args = control.subarray(CREW_ARGS);
  let generation = 0;
  for (;;) {
    Atomics.wait(control, 0, generation);
    generation = Atomics.load(control, 0);
    const config = control[1]!;
    if (config < 0) return failure;
    let answers = true;
    if (failure === null) {
      try {
        answers = step(config, args);
      } catch (e) {
        failure = `configuration ${config}: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    if (failure !== null) Atomics.store(control, 3, 1);
    if (answers || failure !== null) {
      Atomics.add(control, 2, 1);
      Atomics.notify(control, 2);
    }
  }
}
