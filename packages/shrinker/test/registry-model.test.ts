import { expect, test } from "vitest";
import fc from "fast-check";
import { ShrinkerRegistry } from "@mmkit/shrinker";
import { FakeCache } from "./helpers.js";

const NODES = 2;

type Op =
  | { t: "register"; i: number }
  | { t: "unregister"; i: number }
  | { t: "shrink"; nid: number; priority: number }
  | { t: "reclaim"; target: number; nid: number | undefined }
  | { t: "refill"; i: number; nid: number; n: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant("register" as const), i: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ t: fc.constant("unregister" as const), i: fc.integer({ min: 0, max: 3 }) }),
  { weight: 3, arbitrary: fc.record({ t: fc.constant("shrink" as const), nid: fc.integer({ min: 0, max: NODES - 1 }), priority: fc.integer({ min: 0, max: 12 }) }) },
  fc.record({ t: fc.constant("reclaim" as const), target: fc.integer({ min: 0, max: 5000 }), nid: fc.option(fc.integer({ min: 0, max: NODES - 1 }), { nil: undefined }) }),
  fc.record({ t: fc.constant("refill" as const), i: fc.integer({ min: 0, max: 3 }), nid: fc.integer({ min: 0, max: NODES - 1 }), n: fc.integer({ min: 0, max: 20_000 }) }),
);

const config = fc.record({
  seeks: fc.integer({ min: 0, max: 8 }),
  batch: fc.integer({ min: 1, max: 300 }),
  numaAware: fc.boolean(),
  objects: fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: NODES, maxLength: NODES }),
});

/** The reference: do_shrink_slab written out plainly over a Map of deferred work. */
class Model {
  registered: number[] = [];
  deferred = new Map<string, number>();
  freed = new Map<number, number>();
  constructor(readonly caches: { seeks: number; batch: number; numaAware: boolean; objects: number[] }[]) {}

  doShrink(i: number, nid: number, priority: number): number {
    const c = this.caches[i]!;
    const node = c.numaAware ? nid : 0;
    const freeable = c.objects[node]!;
    if (freeable === 0) return 0;
    const key = `${i}/${node}`;
    const nr = this.deferred.get(key) ?? 0;
    const delta = c.seeks === 0 ? Math.floor(freeable / 2) : Math.floor((Math.floor(freeable / 2 ** priority) * 4) / c.seeks);
    let total = Math.min(Math.floor(nr / 2 ** priority) + delta, 2 * freeable);
    let scanned = 0;
    let freed = 0;
    while (total >= c.batch || total >= freeable) {
      const n = Math.min(c.batch, total);
      const f = Math.min(n, c.objects[node]!);
      c.objects[node]! -= f;
      freed += f;
      total -= n;
      scanned += n;
    }
    this.deferred.set(key, Math.min(Math.max(nr + delta - scanned, 0), 2 * freeable));
    this.freed.set(i, (this.freed.get(i) ?? 0) + freed);
    return freed;
  }

  pass(nid: number, priority: number): number {
    let freed = 0;
    for (const i of this.registered) {
      if (nid >= 0 || !this.caches[i]!.numaAware) freed += this.doShrink(i, nid < 0 ? 0 : nid, priority);
      else for (let n = 0; n < NODES; n++) freed += this.doShrink(i, n, priority);
    }
    return freed;
  }
}

test("the registry matches a plain do_shrink_slab model under random operations", () => {
  fc.assert(
    fc.property(fc.array(config, { minLength: 4, maxLength: 4 }), fc.array(op, { maxLength: 40 }), (configs, ops) => {
      const registry = new ShrinkerRegistry({ nodes: NODES });
      const caches = configs.map((c, i) => new FakeCache(`cache${i}`, c.objects, { seeks: c.seeks, batch: c.batch, numaAware: c.numaAware }));
      const model = new Model(configs.map((c) => ({ ...c, objects: c.objects.slice() })));
      for (const o of ops) {
        if (o.t === "register") {
          if (registry.isRegistered(caches[o.i]!)) continue;
          registry.register(caches[o.i]!);
          model.registered.push(o.i);
          for (let n = 0; n < NODES; n++) model.deferred.delete(`${o.i}/${n}`);
          model.freed.delete(o.i);
        } else if (o.t === "unregister") {
          if (!registry.isRegistered(caches[o.i]!)) continue;
          registry.unregister(caches[o.i]!);
          model.registered.splice(model.registered.indexOf(o.i), 1);
        } else if (o.t === "refill") {
          caches[o.i]!.objects[o.nid] = o.n;
          model.caches[o.i]!.objects[o.nid] = o.n;
        } else if (o.t === "shrink") {
          expect(registry.shrink({ nid: o.nid, priority: o.priority })).toBe(model.pass(o.nid, o.priority));
        } else {
          let freed = 0;
          let passes = 0;
          let priority = 12;
          if (o.target > 0) {
            for (; priority >= 0; priority--) {
              freed += model.pass(o.nid ?? -1, priority);
              passes++;
              if (freed >= o.target) break;
            }
          }
          expect(registry.reclaim(o.target, o.nid)).toEqual({ freed, passes, priority: Math.max(priority, 0), reachedTarget: freed >= o.target });
        }
        registry.check();
        expect(caches.map((c) => c.objects)).toEqual(model.caches.map((c) => c.objects));
        for (const i of model.registered) {
          const s = registry.stats(caches[i]!);
          expect(s.nodes.map((n) => n.deferred)).toEqual([0, 1].map((n) => model.deferred.get(`${i}/${n}`) ?? 0));
          expect(s.freed).toBe(model.freed.get(i) ?? 0);
        }
      }
    }),
    { numRuns: 150 },
  );
});
