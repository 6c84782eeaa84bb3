import { MetadataArena, type MetadataArray, type TypedArrayKind } from "@mmkit/physmem";

/**
 * A `MetadataArena` that also counts every byte it ever handed out (released arrays included),
 * so "bytes allocated while freeing" is a difference of two readings.
 *
 * @example
 * ```ts
 * const arena = new TallyArena();
 * const before = arena.allocatedBytes;
 * allocator.freePages(pfn, 0);
 * arena.allocatedBytes - before; // 0 when freeing needs no metadata
 * ```
 */
export class TallyArena extends MetadataArena {
  /** Bytes handed out so far, released ones included. */
  allocatedBytes = 0;

  override allocate(kind: TypedArrayKind, length: number, label: string): MetadataArray {
    const before = this.bytes;
    const array = super.allocate(kind, length, label);
    this.allocatedBytes += this.bytes - before;
    return array;
  }
}
