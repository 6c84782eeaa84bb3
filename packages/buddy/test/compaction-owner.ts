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

/**
 * The reference model of the model tests: what the test holds, Movable blocks through the owner's
 * map and the Unmovable/Reclaimable blocks aside, with the pages they add up to.
 */
export class HeldPages {
  /** Unmovable and Reclaimable blocks held: pfn -> order. */
  readonly others = new Map<number, number>();
  /** The Reclaimable ones among `others`. */
  readonly reclaimable = new Set<number>();
  otherPages = 0;
  #tag = 0;

  constructor(readonly owner: Owner) {}

  /** Records the block of `order` at `pfn` just allocated as `mt` (checked not held already). */
  took(pfn: number, order: number, mt: number): void {
    expect(this.owner.pages.has(pfn) || this.others.has(pfn)).toBe(false);
    if (mt === MigrateType.Movable) return this.owner.add(pfn, order, this.#tag++);
    this.others.set(pfn, order);
    if (mt === MigrateType.Reclaimable) this.reclaimable.add(pfn);
    this.otherPages += 2 ** order;
  }

  /** Owned Movable blocks, given to the owner directly (a fill). */
  own(pfn: number, order: number): void {
    this.owner.add(pfn, order, this.#tag++);
  }

  /** The held block `pick` selects (modulo, in pfn order), or undefined when nothing is held. */
  pick(pick: number): number | undefined {
    const all = [...this.owner.pages.keys(), ...this.others.keys()].sort((x, y) => x - y);
    return all.length === 0 ? undefined : all[pick % all.length];
  }

  /** Order of the held block at `pfn`. */
  orderOf(pfn: number): number {
    return this.owner.pages.get(pfn)?.order ?? this.others.get(pfn)!;
  }

  /** Forgets the block at `pfn`, just freed. */
  freed(pfn: number): void {
    const order = this.orderOf(pfn);
    if (this.owner.pages.delete(pfn)) this.owner.pinned.delete(pfn);
    else {
      this.others.delete(pfn);
      this.reclaimable.delete(pfn);
      this.otherPages -= 2 ** order;
    }
  }

  /** The allocator agrees with the model: the owner's blocks, the others, and `extra` pages more allocated. */
  agree(b: BuddyAllocator, extra = 0): void {
    ownerAgrees(b, this.owner, this.otherPages + extra);
    for (const [pfn, order] of this.others) expect(b.blockOf(pfn)).toMatchObject({ pfn, order, state: "allocated" });
  }
}
