import cliProgress from "cli-progress";

/** Where the runner reports progress; the CLI passes a bar, tests a recorder or {@link silentProgress}. */
export interface ProgressSink {
  /** A new step of work started (a suite): the bar may appear once it has run `delayMs`. */
  start(title: string): void;
  update(label: string, done: number, total: number): void;
  /** Removes the bar (before a table is printed). */
  stop(): void;
}

/** Draws nothing. */
export const silentProgress: ProgressSink = { start() {}, update() {}, stop() {} };

/** Options for {@link progressBar}. */
export interface ProgressBarOptions {
  /** Where to draw (default `process.stderr`). */
  stream?: NodeJS.WriteStream;
  /** Milliseconds a step runs before its bar appears (default 1500: short steps draw nothing). */
  delayMs?: number;
}

/**
 * True when a bar helps: stderr and stdout are terminals (not piped into a file or another
 * program) and this is not CI.
 *
 * @example
 * ```ts
 * const progress = progressWanted() ? progressBar() : silentProgress;
 * ```
 */
export function progressWanted(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.stderr.isTTY === true && process.stdout.isTTY === true && (env.CI === undefined || env.CI === "" || env.CI === "false");
}

/**
 * A cli-progress bar on stderr that appears only for steps longer than `delayMs`, and is cleared
 * before anything is printed to stdout. Cost: at most one redraw per 100 ms.
 *
 * @example
 * ```ts
 * const progress = progressWanted() ? progressBar() : silentProgress;
 * progress.start("floors");
 * progress.update("order-0 pairs", 3, 10);
 * progress.stop();
 * ```
 */
export function progressBar(options: ProgressBarOptions = {}): ProgressSink {
  const delayMs = options.delayMs ?? 1500;
  const bar = new cliProgress.SingleBar(
    {
      stream: options.stream ?? process.stderr,
      format: "{title} {bar} {value}/{total} {label}",
      barsize: 20,
      hideCursor: true,
      clearOnComplete: true,
      stopOnComplete: false,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let title = "";
  let startedAt = 0;
  let drawing = false;
  return {
    start(t) {
      title = t;
      startedAt = performance.now();
    },
    update(label, done, total) {
      const payload = { title, label: label.length > 40 ? `${label.slice(0, 39)}…` : label };
      if (!drawing) {
        if (performance.now() - startedAt < delayMs) return;
        bar.start(total, done, payload);
        drawing = true;
        return;
      }
      bar.setTotal(total);
      bar.update(done, payload);
    },
    stop() {
      if (drawing) bar.stop();
      drawing = false;
    },
  };
}
