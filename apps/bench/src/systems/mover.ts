import type { PageMover } from "@mmkit/buddy";
import { MemdescType, memdescType, type DescriptorTable, type PfnRange } from "@mmkit/memdesc-lookup";
import type { PhysicalMemory } from "@mmkit/physmem";

/**
 * An owner of anonymous memory in a system (its anon memory, a workload's held blocks): it keeps
 * its own pfn -> owner table, so only it can say whether a block may move and update what points
 * at it when it does.
 */
export interface AnonOwner {
  /** Does this owner hold a block starting at `pfn` (from its own pfn -> owner table)? O(1). */
  holds(pfn: number): boolean;
  /** May its 2^order-page block at `pfn` move now (false: pinned, as a page under `get_user_pages`)? O(1). */
  mayMove(pfn: number, order: number): boolean;
  /** The block moved from `fromPfn` to `toPfn` (bytes already copied): point at `toPfn` from now on. O(1). */
  moved(fromPfn: number, toPfn: number, order: number): void;
}

/**
 * A system's page mover (the `PageMover` `@mmkit/buddy`'s compaction and contiguous ranges call):
 * the system owns its anonymous pages and their swap, so it moves them. A block may move when the
 * system's descriptor table says it is one whole anon allocation, none of its pages has failed,
 * and one of the registered {@link AnonOwner}s holds it and does not pin it. A move copies the
 * block's bytes (when the machine has them), moves its memdesc in the descriptor table (same
 * memdesc, new range) and tells the owner, which updates its own pfn -> owner table. PTE-cache
 * pages, fragment blocks, slab and descriptor memory are never anon, so they never move; nor do
 * anon pages nobody registered (a workload holding bare pfns cannot update them).
 *
 * Cost: `isMovable` and `holds` are a table lookup, a range read and one `holds` per owner
 * (a few); `migrate` adds a copy of 2^order pages and one table clear + set.
 *
 * @example
 * ```ts
 * const blocks = system.anonBlocks(1024);      // registered with system.mover
 * const slot = blocks.alloc(2);
 * system.buddy!.compact(system.mover);         // may move it
 * blocks.pfn(slot);                            // where it is now
 * ```
 */
export class SystemMover implements PageMover {
  readonly table: DescriptorTable;
  readonly machine: PhysicalMemory;
  readonly pageSize: number;
  readonly #owners: AnonOwner[] = [];
  readonly #range: PfnRange = { firstPfn: 0, lastPfn: 0 };
  /** Blocks and pages moved, and blocks refused (by `isMovable` or `migrate`). */
  movedBlocks = 0;
  movedPages = 0;
  refused = 0;

  constructor(table: DescriptorTable, machine: PhysicalMemory) {
    this.table = table;
    this.machine = machine;
    this.pageSize = machine.pageSize;
  }

  /** Adds an owner whose blocks may move. O(1). */
  addOwner(owner: AnonOwner): void {
    this.#owners.push(owner);
  }

  /** Removes an owner: its blocks stay where they are from now on. O(owners). */
  removeOwner(owner: AnonOwner): void {
    const i = this.#owners.indexOf(owner);
    if (i >= 0) this.#owners.splice(i, 1);
  }

  isMovable(pfn: number, order: number): boolean {
    const ok = this.#ownerOf(pfn, order)?.mayMove(pfn, order) === true;
    if (!ok) this.refused++;
    return ok;
  }

  migrate(fromPfn: number, toPfn: number, order: number): boolean {
    const owner = this.#ownerOf(fromPfn, order);
    if (owner === undefined || !owner.mayMove(fromPfn, order)) {
      this.refused++;
      return false;
    }
    const pages = 2 ** order;
    if (this.machine.backing !== null) {
      const bytes = pages * this.pageSize;
      this.machine.bytes(toPfn * this.pageSize, bytes).set(this.machine.bytes(fromPfn * this.pageSize, bytes));
    }
    const memdesc = this.table.get(fromPfn);
    this.table.clear(fromPfn);
    this.table.set(toPfn, toPfn + pages - 1, memdesc);
    owner.moved(fromPfn, toPfn, order);
    this.movedBlocks++;
    this.movedPages += pages;
    return true;
  }

  holds(pfn: number): boolean {
    const memdesc = this.table.get(pfn);
    if (memdesc < 0 || memdescType(memdesc) !== MemdescType.Anon) return false;
    for (const o of this.#owners) if (o.holds(pfn)) return true;
    return false;
  }

  /** The owner of the whole anon allocation of 2^order pages at `pfn` with no failed page, or undefined. */
  #ownerOf(pfn: number, order: number): AnonOwner | undefined {
    const memdesc = this.table.get(pfn);
    if (memdesc < 0 || memdescType(memdesc) !== MemdescType.Anon) return undefined;
    const r = this.#range;
    const pages = 2 ** order;
    if (!this.table.range(pfn, r) || r.firstPfn !== pfn || r.lastPfn !== pfn + pages - 1) return undefined;
    const failures = this.machine.failures;
    if (failures.count > 0) for (let p = pfn; p < pfn + pages; p++) if (failures.isPoisoned(p)) return undefined;
    for (const o of this.#owners) if (o.holds(pfn)) return o;
    return undefined;
  }
}
