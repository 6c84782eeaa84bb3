import type { Suite } from "../harness/types.js";

/**
 * One line of the suite registry. `load` imports the suite's module only when it runs, so running
 * one suite needs only that suite's packages built (`--suite floors` builds nothing but physmem).
 */
export interface SuiteEntry {
  /** What `--suite` selects; equal to the loaded suite's `name`. */
  name: string;
  /** One line for `--list` and `--help`; equal to the loaded suite's `description`. */
  description: string;
  /** Runs with no `--suite` flag; equal to the loaded suite's `default`. */
  default: boolean;
  /** Workspace packages the suite imports (named in the hint when loading fails because one is not built). */
  packages: readonly string[];
  load: () => Promise<Suite>;
}

/**
 * Every suite the bench knows, in the order they run. Add one line per suite; keep `name`,
 * `description` and `default` equal to the suite's own (a test checks it).
 *
 * @example
 * ```ts
 * const entry = suites.find((s) => s.name === "floors")!;
 * const suite = await entry.load();   // imports ./floors.ts now, and nothing else
 * ```
 */
export const suites: readonly SuiteEntry[] = [
  { name: "floors", description: "The floors every allocator is compared with (Int32Array free-list stack, 10k-live churn, flat page->id lookup over 1M ranges), beside JS peers", default: true, packages: ["@mmkit/physmem"], load: () => import("./floors.js").then((m) => m.default) },
  { name: "direct-map", description: "Random set_memory_ro/rw on pages of a physmem DirectMap: splits, DirectMap4k/2M/1G, page-table bytes, lines per change", default: true, packages: ["@mmkit/physmem"], load: () => import("./direct-map.js").then((m) => m.default) },
  { name: "fragments", description: "Network rx fragments (IMIX 7:4:1 of 64/576/1500 B), 10k live: frag-cache over buddy, POTAD and a page stack vs the Int32Array stack floor and @thi.ng/malloc; recycling in place", default: true, packages: ["@mmkit/physmem", "@mmkit/frag-cache"], load: () => import("./fragments.js").then((m) => m.default) },
  { name: "pte", description: "PTE-mapped page churn (100k allocs, 4k live, beside an ordinary workload) with and without pte-cache, fresh and fragmented machine: 2M splits, DirectMap4k/2M/1G, memory held, what a shrink gives back", default: true, packages: ["@mmkit/physmem", "@mmkit/pte-cache"], load: () => import("./pte.js").then((m) => m.default) },
  { name: "buddy", description: "Linux-style buddy allocator vs the Int32Array floor: order-0 pairs with/without per-CPU lists, 10k/100k-live churn, mixed orders 0-3, lines/op, order-9 success after fragmentation", default: true, packages: ["@mmkit/physmem", "@mmkit/buddy"], load: () => import("./buddy.js").then((m) => m.default) },
  { name: "compaction", description: "Compaction in a whole system (classic, anon pages moved by its mover): order-9 success with and without direct compaction, pages scanned and migrated per success; fragmentation score over a churn at compaction_proactiveness 0, 20, 50", default: true, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/potad", "@mmkit/memdesc-lookup", "@mmkit/frag-cache", "@mmkit/pte-cache", "@mmkit/shrinker"], load: () => import("./compaction.js").then((m) => m.default) },
  { name: "potad", description: "POTAD vs buddy vs the Int32Array floor: order-0 and mixed 0-3 churn, 512 B..64 KiB with descriptors, 8 MiB@1 MiB after fragmentation, lines/op", default: true, packages: ["@mmkit/physmem", "@mmkit/potad"], load: () => import("./potad.js").then((m) => m.default) },
  { name: "pressure", description: "Memory pressure with reclaim: 5 shrinker caches of different sizes/seeks under reclaim requests (freed vs the 4/seeks formula), shrink-pass time, ListLru scan cost, DirectReclaim success rate vs a bare page stack", default: true, packages: ["@mmkit/shrinker"], load: () => import("./pressure.js").then((m) => m.default) },
  { name: "lookup", description: "phys->desc lookup: maple tree load over 1M ranges (18 GiB span, holes) and a 16 GiB folio-mix machine vs flat floor, binary search, sorted-btree, 64/8 B memmaps; latency, lines/lookup, metadata, erase+store", default: true, packages: ["@mmkit/physmem", "@mmkit/memdesc-lookup"], load: () => import("./lookup.js").then((m) => m.default) },
  { name: "slab", description: "A heap over your own buffer: @mmkit/heap (slab size classes and a segregated-fit range allocator) vs @thi.ng/malloc and POTAD alone, log-uniform 16 B..16 KiB at 10k live: ns/pair, reserved/requested at peak, use at first failure in 8 MiB, metadata outside the buffer", default: true, packages: ["@mmkit/physmem", "@mmkit/potad", "@mmkit/slab", "@mmkit/heap"], load: () => import("./slab.js").then((m) => m.default) },
  { name: "systems", description: "Whole systems (classic, memdesc, buddy+maple, potad+memmap, potad+memdesc8) under every workload: churns, sub-page, IMIX, PTE, pressure+swap, memory failure, 8 MiB@1 MiB, trace replay", default: false, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/potad", "@mmkit/memdesc-lookup", "@mmkit/frag-cache", "@mmkit/pte-cache", "@mmkit/shrinker"], load: () => import("./systems.js").then((m) => m.default) },
  { name: "replay", description: "Replay page-allocator traces, streamed (--trace <file|->, --trace-synth <events>; default the Linux 6.1 fixture), on every system through per-CPU fronts: the trace's whole accounting, time series over trace time, lines/s and events/s, ns per event", default: false, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/potad", "@mmkit/memdesc-lookup", "@mmkit/frag-cache", "@mmkit/pte-cache", "@mmkit/shrinker"], load: () => import("./replay.js").then((m) => m.default) },
  { name: "trace-scale", description: "Trace replay at real size: peak RSS, parse lines/s and replay events/s of the whole bench streaming synthetic traces of 1M, 10M and 50M events (--quick: 100k, 1M) on classic, one process per size", default: false, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/potad", "@mmkit/memdesc-lookup", "@mmkit/frag-cache", "@mmkit/pte-cache", "@mmkit/shrinker"], load: () => import("./trace-scale.js").then((m) => m.default) },
  { name: "workers", description: "Shared buddy and shared POTAD across worker threads (1-3 workers): per-CPU lists/fronts (two batch/high) vs zone lock only vs per-worker Int32Array stacks and private buddies; ns/op, lock acquisitions/contention per 1k ops, pages on per-CPU lists/fronts", default: false, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/potad"], load: () => import("./workers.js").then((m) => m.default) },
  { name: "page-frag", description: "page_frag_test in workers: producer -> 512-entry SharedArrayBuffer ring -> consumer over SharedFragmentCache + SharedBuddy, vs the same sequence in one thread, IMIX and kernel-test sizes; fragments/s, blocks taken/recycled/returned", default: false, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/frag-cache"], load: () => import("./page-frag.js").then((m) => m.default) },
  { name: "net-rx", description: "apps/net-rx vs Node's 'data' events and a static onread buffer (with/without copy) over loopback, sender in another process: MB/s, CPU/GiB, GC; slow consumer: peak memory, bytes intact without a copy", default: false, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/frag-cache"], load: () => import("./net-rx.js").then((m) => m.default) },
  { name: "memdesc-rcu", description: "Q8: lockless pfn -> memdesc lookups (get-unless-zero, re-check) by 2 reader workers while a writer frees and reuses memdescs: slots reused at once vs type-stable (epochs); violations, retries, lookups/s, slots held back", default: true, packages: ["@mmkit/physmem"], load: () => import("./memdesc-rcu.js").then((m) => m.default) },
  { name: "memdesc-rcu-full", description: "Q8 at length: the memdesc-rcu measurement with 20 rounds of 1.25M lookups per reader per mode (50M lookups per mode; a minute or two)", default: false, packages: ["@mmkit/physmem"], load: () => import("./memdesc-rcu-full.js").then((m) => m.default) },
  { name: "scale", description: "Cost as the live set grows (1k..1M pages, machines to 16 GiB): ns/op and lines/op of buddy per-CPU and free lists, POTAD and its page face, maple/memmap-64/memdesc-8 tables, classic and memdesc", default: true, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/potad", "@mmkit/memdesc-lookup", "@mmkit/frag-cache", "@mmkit/pte-cache", "@mmkit/shrinker"], load: () => import("./scale.js").then((m) => m.default) },
  { name: "scale-full", description: "The scale curves with lines/op probed at every size up to 1M live pages and more rounds (minutes: every probed array access goes through a Proxy)", default: false, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/potad", "@mmkit/memdesc-lookup", "@mmkit/frag-cache", "@mmkit/pte-cache", "@mmkit/shrinker"], load: () => import("./scale-full.js").then((m) => m.default) },
  { name: "answers", description: "The 8 questions of the memdesc/POTAD discussion, each answered from figures measured in this run (classic vs memdesc; Q8 from the memdesc-rcu suite)", default: true, packages: ["@mmkit/physmem", "@mmkit/buddy", "@mmkit/potad", "@mmkit/memdesc-lookup", "@mmkit/frag-cache", "@mmkit/pte-cache", "@mmkit/shrinker"], load: () => import("./answers.js").then((m) => m.default) },
];
