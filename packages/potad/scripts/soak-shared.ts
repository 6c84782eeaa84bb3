/// <reference types="node" />
// The long shared-POTAD stress run (the short one is in test/shared.test.ts):
//   pnpm --filter @mmkit/potad soak:shared [totalOps=10000000] [workers=4] [lock=mutex|spin]
// Exits 1 unless nothing was lost or handed out twice, every byte came back and check() passed.
import { runSharedSoak, stressFaults } from "@mmkit/test-support/shared-stress";
import { runSharedStress } from "../test/stress/shared-stress.ts";

process.exit(
  await runSharedSoak(
    process.argv.slice(2),
    process.env.MMKIT_SOAK_SEED,
    (a) => runSharedStress({ workers: a.workers, opsPerWorker: a.opsPerWorker, seed: a.seed, potad: { lock: a.lock } }),
    (r) => stressFaults(r).length === 0 && r.freeAfter === r.size && r.cachedAfter === 0 && r.allocatedAfter === 0,
  ),
);
