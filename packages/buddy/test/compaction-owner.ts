import { expect } from "vitest";
import { MigrateType, type BuddyAllocator, type BuddyOptions, type PageMover } from "@mmkit/buddy";
import { small } from "./helpers.ts";

/**
 * A page owner for compaction tests: a pfn -> (order, tag) map standing for the owner's page
 * tables. `refuse` pins pfns (isMovable false); `lie`/`throwOn` make it misbehave on purpose.
 */
export class Owner implements PageMover {
  readonly pages = new Map<number, { order: number; tag: number }>();
  readonly pinned = new Set<number>();
  readonly refuseMove = new Set<number>();
  moves: [number, number, number][] = [];
  lie: "keep-source" | "no-target" | "non-boolean" | null = null;
  throwOn = -1;

  add(pfn: number, order: number, tag: number): void {
    this.pages.set(pfn, { order, tag });
  }

  isMovable(pfn: number): boolean {
    return this.pages.has(pfn) && !this.pinned.has(pfn);
  }

  migrate(fromPfn: number, toPfn: number, order: number): boolean {
    if (this.throwOn === fromPfn) throw new Error(`owner bug at ${fromPfn}`);
    if (this.refuseMove.has(fromPfn)) return false;
    if (this.lie === "non-boolean") return "yes" as unknown as boolean;
    const page = this.pages.get(fromPfn);
    if (page === undefined || page.order !== order) throw new Error(`asked to move ${fromPfn} (order ${order}), not mine`);
    if (this.lie === "keep-source") return true;
    this.pages.delete(fromPfn);
    if (this.lie !== "no-target") this.pages.set(toPfn, page);
    this.moves.push([fromPfn, toPfn, order]);
    return true;
  }

  holds(pfn: number): boolean {
    return this.pages.has(pfn);
  }
}

/** Every block the owner holds is an allocated block of that order in `b`, and `b` hands out nothing else but `others` pages. */
export function ownerAgrees(b: BuddyAllocator, owner: Owner, others = 0): void {
  let pages = 0;
  for (const [pfn, page] of owner.pages) {
    const block = b.blockOf(pfn);
    expect(block, `owner's pfn ${pfn}`).toMatchObject({ pfn, order: page.order, state: "allocated", migratetype: MigrateType.Movable });
    pages += 2 ** page.order;
  }
  expect(b.allocatedPageCount()).toBe(pages + others);
}

/** A 64-page machine (order <= 4, pageblocks of 4 pages) with every odd page allocated Movable and owned. */
export function checkerboard(options: BuddyOptions = {}): { b: BuddyAllocator; owner: Owner } {
  const b = small({ pageblockOrder: 2, ...options });
  const owner = new Owner();
  const pfns: number[] = [];
  for (let i = 0; i < 64; i++) pfns.push(b.allocPages(0, { migratetype: MigrateType.Movable }));
  for (const p of pfns) {
    if (p % 2 === 0) b.freePages(p, 0);
    else owner.add(p, 0, p);
  }
  return { b, owner };
}
