/// <reference types="node" />
import { describe, expect, test } from "vitest";
import { runTsWorker } from "@mmkit/test-support";
import { ErrorCode, FutexMutex, LOCK_INTS, SharedMetadataArena, SpinLock, canBlock } from "../src/index.js";

function runWorker(data: Record<string, unknown>): Promise<unknown> {
  return runTsWorker(new URL("./lock-worker.ts", import.meta.url), data);
}

function words(): { word: Int32Array; counter: Int32Array } {
  const arena = new SharedMetadataArena({ capacity: 256 });
  return { word: arena.int32(LOCK_INTS, "lock"), counter: arena.int32(2, "counter") };
}

describe.each(["spin", "mutex"] as const)("%s lock", (kind) => {
  const make = (word: Int32Array, owner = 1) => (kind === "spin" ? new SpinLock(word, owner) : new FutexMutex(word, owner));

  test("one thread: counts acquisitions, tryLock refuses a held lock, holder names the owner", () => {
    const { word } = words();
    const a = make(word, 7);
    const b = make(word, 9);
    a.lock();
    expect(a.holder()).toBe(7);
    expect(b.tryLock()).toBe(false);
    a.unlock();
    expect(b.holder()).toBe(0);
    expect(b.tryLock()).toBe(true);
    expect(a.holder()).toBe(9);
    b.unlock();
    expect(a.stats()).toEqual({ acquisitions: 2, contended: 0, waits: 0 });
    a.resetStats();
    expect(b.stats()).toEqual({ acquisitions: 0, contended: 0, waits: 0 });
    expect(() => a.unlock()).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidState }));
  });

  test("bad words and owners are typed errors naming the value", () => {
    expect(() => make(new Int32Array(3))).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument }));
    expect(() => make(words().word, 0)).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument, message: expect.stringContaining("got 0") }));
    expect(() => make(words().word, 1.5)).toThrowError(expect.objectContaining({ message: expect.stringContaining("1.5") }));
  });

  test("4 workers (more than the cores) x 3000 sections: no update lost, every acquisition counted", async () => {
    const { word, counter } = words();
    const rounds = 3000;
    const results = await Promise.all([1, 2, 3, 4].map((owner) => runWorker({ word, counter, kind, owner, rounds, die: false })));
    expect(results).toEqual(["done", "done", "done", "done"]);
    expect(counter[0]).toBe(4 * rounds);
    const stats = make(word).stats();
    expect(stats.acquisitions).toBe(4 * rounds);
    expect(stats.contended).toBeLessThanOrEqual(4 * rounds);
    expect(make(word).holder()).toBe(0);
  });

  test("a worker that dies holding the lock: holder() names it, breakLock(owner) frees it", async () => {
    const { word, counter } = words();
    expect(await runWorker({ word, counter, kind, owner: 5, rounds: 0, die: true })).toBe("holding");
    const survivor = make(word, 2);
    expect(survivor.holder()).toBe(5);
    expect(survivor.tryLock()).toBe(false);
    expect(survivor.breakLock(3)).toBe(false);
    expect(survivor.breakLock(5)).toBe(true);
    expect(survivor.tryLock()).toBe(true);
    survivor.unlock();
  });
});

test("FutexMutex: Node's main thread may block; lockAsync takes a free lock and waits for a held one", async () => {
  expect(canBlock()).toBe(true);
  const { word } = words();
  const m = new FutexMutex(word, 1);
  expect(m.blocking).toBe(true);
  await m.lockAsync();
  expect(m.holder()).toBe(1);
  const other = new FutexMutex(word, 2);
  const pending = other.lockAsync();
  let taken = false;
  void pending.then(() => (taken = true));
  await new Promise((r) => setTimeout(r, 10));
  expect(taken).toBe(false);
  m.unlock();
  await pending;
  expect(other.holder()).toBe(2);
  other.unlock();
  expect(other.stats()).toEqual({ acquisitions: 2, contended: 1, waits: 1 });
});

test("a mutex needs shared memory", () => {
  expect(() => new FutexMutex(new Int32Array(LOCK_INTS))).toThrowError(expect.objectContaining({ code: ErrorCode.InvalidArgument, message: expect.stringContaining("SharedArrayBuffer") }));
});
