/// <reference types="node" />
// The long shared-POTAD stress run (the short one is in test/shared.test.ts):
//   pnpm --filter @mmkit/potad soak:shared [totalOps=10000000] [workers=4] [lock=mutex|spin]
// Exits 1 unless nothing was lost or handed out twice, every byte came back and check() passed.
import { runSharedStress } from "../test/stress/shared-stress.ts";

const total = Number(process.argv[2] ?? 10_000_000);
const workers = Number(process.argv[3] ?? 4);
const lock = process.argv[4] ?? "mutex";
if (!Number.isSafeInteger(total) || total < workers || !Number.isSafeInteger(workers) || workers < 1 || (lock !== "mutex" && lock !== "spin")) {
  console.error(`usage: soak-shared.ts [totalOps >= workers] [workers >= 1] [mutex|spin], got ${process.argv.slice(2).join(" ")}`);
  process.exit(2);
}
// A new seed each run (printed, and taken back as MMKIT_SOAK_SEED to replay one).
const seed = Number(process.env.MMKIT_SOAK_SEED ?? Date.now() % 100_000);
const started = performance.now();
const r = await runSharedStress({ workers, opsPerWorker: Math.ceil(total / workers), seed, potad: { lock } });
const seconds = (performance.now() - started) / 1000;
const ok =
  r.doubles === 0 && r.misplaced === 0 && r.check === "ok" && r.frees === r.allocs && r.received === r.sent && r.freeAfter === r.size && r.cachedAfter === 0 && r.allocatedAfter === 0 && r.ownedAfter === 0;
console.log(JSON.stringify({ workers, lockKind: lock, seed, ops: Math.ceil(total / workers) * workers, seconds: Number(seconds.toFixed(1)), ...r }, null, 1));
console.log(ok ? "soak: ok" : "soak: FAILED");
process.exit(ok ? 0 : 1);
