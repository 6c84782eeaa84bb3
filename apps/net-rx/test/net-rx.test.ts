import { describe, expect, test } from "vitest";
import { ByteStream } from "../src/byte-stream.js";
import { runTransfer } from "../src/transfer.js";
import { compareReceivePaths, RECEIVE_PATHS } from "../src/compare.js";

describe("net-rx over TCP on 127.0.0.1", () => {
  test("8 MiB arrive intact in fragments, every fragment comes back, every page goes back to the buddy allocator", async () => {
    const r = await runTransfer({ bytes: 8 << 20, fragSize: 2048, seed: 7, timeoutMs: 30_000 });
    expect(r.bytesReceived).toBe(8 << 20);
    expect(r.firstBadByte).toBe(-1);
    expect(r.receiver.emergencyReads).toBe(0);
    expect(r.cache.fragmentsAllocated).toBe(r.receiver.reads + 1); // + the buffer of the read that never came
    expect(r.cache.fragmentsFreed).toBe(r.cache.fragmentsAllocated);
    expect(r.cache).toMatchObject({ liveFragments: 0, liveBytes: 0, blocksInUse: 0 });
    expect(r.cache.blocksReturned).toBe(r.cache.blocksTaken);
    expect(r.freePagesAfter).toBe(r.freePagesBefore);
  });

  test("freeing inside the read callback lets used-up blocks be recycled in place", async () => {
    const r = await runTransfer({ bytes: 4 << 20, fragSize: 4096, seed: 9, inlineConsumer: true, timeoutMs: 30_000 });
    expect(r.firstBadByte).toBe(-1);
    expect(r.bytesReceived).toBe(4 << 20);
    expect(r.cache.blocksTaken).toBe(1);
    expect(r.cache.blocksRecycled).toBeGreaterThan(100);
    expect(r.cache.liveFragments).toBe(0);
    expect(r.freePagesAfter).toBe(r.freePagesBefore);
  });

  test("a read buffer is exactly the size asked for, though fragments are rounded up to 16 bytes", async () => {
    const r = await runTransfer({ bytes: 2 << 20, fragSize: 1500, seed: 11, timeoutMs: 30_000 });
    expect(r.firstBadByte).toBe(-1);
    expect(r.bytesReceived).toBe(2 << 20);
    expect(r.receiver.emergencyReads).toBe(0);
    expect(r.receiver.slackBytes).toBe(r.receiver.reads * 1500 - r.receiver.bytes); // no read filled more than 1500
    expect(r.cache.bytesWastedRounding).toBe(4 * r.cache.fragmentsAllocated); // 1500 -> 1504
    expect(r.cache).toMatchObject({ liveFragments: 0, liveBytes: 0, blocksInUse: 0 });
    expect(r.freePagesAfter).toBe(r.freePagesBefore);
  });

  test("a read creates no buffer view once the cache's slots repeat: one view per fragment slot", async () => {
    const r = await runTransfer({ bytes: 4 << 20, fragSize: 4096, seed: 13, inlineConsumer: true, timeoutMs: 30_000 });
    expect(r.firstBadByte).toBe(-1);
    expect(r.cache.blocksTaken).toBe(1);
    // One 32 KiB block recycled in place holds 8 slots of 4 KiB: 8 views for every read there was.
    expect(r.receiver.viewsMade).toBe(8);
    expect(r.receiver.reads).toBeGreaterThan(100);
  });

  test("adaptive fragment sizes grow to the reads loopback delivers, and every byte still arrives", async () => {
    const r = await runTransfer({ bytes: 8 << 20, fragSize: 512, adaptive: true, seed: 17, timeoutMs: 30_000 });
    expect(r.firstBadByte).toBe(-1);
    expect(r.bytesReceived).toBe(8 << 20);
    // Loopback reads fill whatever buffer they get: 512 doubles to 32768 in 6 steps (the stream's
    // short last reads may halve it again at the end).
    expect(r.receiver.peakFragSize).toBe(32768);
    expect(r.receiver.resizes).toBeGreaterThanOrEqual(6);
    expect(r.cache).toMatchObject({ liveFragments: 0, liveBytes: 0, blocksInUse: 0 });
    expect(r.freePagesAfter).toBe(r.freePagesBefore);
  });

  test("with too little memory, reads fall back to the emergency buffer and still arrive intact", async () => {
    const r = await runTransfer({ bytes: 2 << 20, fragSize: 8192, seed: 3, memoryBytes: 64 << 10, timeoutMs: 30_000 });
    expect(r.firstBadByte).toBe(-1);
    expect(r.bytesReceived).toBe(2 << 20);
    expect(r.receiver.emergencyReads).toBeGreaterThan(0);
    expect(r.cache.liveFragments).toBe(0);
    expect(r.freePagesAfter).toBe(r.freePagesBefore);
  });
});

describe("compareReceivePaths", () => {
  test("receives the same bytes along every path and says which keep the data without a copy", async () => {
    const rows = await compareReceivePaths({ bytes: 1 << 20, rounds: 1 });
    expect(rows.map((r) => r.path)).toEqual(RECEIVE_PATHS);
    expect(rows.filter((r) => !r.outlivesCallback).map((r) => r.path)).toEqual(["static onread buffer"]);
    for (const r of rows) expect(r.reads).toBeGreaterThan(0);
  });
});

describe("ByteStream", () => {
  test("a reader with the same seed verifies what a writer filled, in any chunking", () => {
    const tx = new ByteStream(5);
    const rx = new ByteStream(5);
    const data = new Uint8Array(3_000_000);
    tx.fill(data);
    expect(rx.verify(data.subarray(0, 1234))).toBe(-1);
    expect(rx.verify(data.subarray(1234))).toBe(-1);
  });

  test("a flipped byte, a lost chunk or a repeated chunk is found at its position", () => {
    const data = new Uint8Array(1 << 16);
    new ByteStream(5).fill(data);
    const flipped = data.slice();
    flipped[40_000] ^= 1;
    expect(new ByteStream(5).verify(flipped)).toBe(40_000);
    const rx = new ByteStream(5);
    expect(rx.verify(data.subarray(0, 2048))).toBe(-1);
    expect(rx.verify(data.subarray(4096, 8192))).toBeGreaterThanOrEqual(2048); // a 2048-byte chunk lost
    const again = new ByteStream(5);
    again.verify(data.subarray(0, 2048));
    expect(again.verify(data.subarray(0, 2048))).toBeGreaterThanOrEqual(2048); // a chunk delivered twice
  });
});
