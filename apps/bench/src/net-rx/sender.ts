import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Seed of the ByteStream the sender sends (the receivers verify against the same). */
export const SENDER_SEED = 1;
/** Bytes per write of the sender. */
export const SENDER_WRITE = 64 << 10;

const SCRIPT = fileURLToPath(new URL("./sender-process.ts", import.meta.url));
// apps/bench, where `tsx` resolves from.
const BENCH_DIR = fileURLToPath(new URL("../..", import.meta.url));

/** A sender process: its port, and `close()` to end it. */
export interface SenderProcess {
  port: number;
  close(): Promise<void>;
}

/**
 * Starts the suite's sender in a child process (sender-process.ts): every connection to the
 * returned port receives the first `bytes` bytes of the ByteStream of seed {@link SENDER_SEED}.
 * `close()` ends the process (by closing its stdin) and resolves when it has exited.
 *
 * @example
 * ```ts
 * const sender = await startSenderProcess(64 << 20);
 * await receivePath("data events", sender.port, 32 << 20);
 * await sender.close();
 * ```
 */
export function startSenderProcess(bytes: number): Promise<SenderProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", SCRIPT, String(bytes)], { cwd: BENCH_DIR, stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return new Promise((resolve, reject) => {
    let out = "";
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`net-rx sender exited with ${code} before listening`)));
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (text: string) => {
      out += text;
      const line = out.indexOf("\n");
      if (line < 0) return;
      const { port } = JSON.parse(out.slice(0, line)) as { port: number };
      resolve({
        port,
        close: async () => {
          child.stdin.end();
          await exited;
        },
      });
    });
  });
}
