import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ErrorCode, MmkitError, describeValue } from "@mmkit/physmem";
import type { Potad } from "@mmkit/potad";

/** Where swap slot addresses start: far above any RAM a bench machine has (1 TiB). */
export const SWAP_BASE = 2 ** 40;

/**
 * Swap: a POTAD space that is not memory hands out page-sized slots, and the bytes of a page
 * evicted to a slot really go to a file (a temp file, one positional write at the slot's offset)
 * and come back from it when the page is faulted back in.
 *
 * Cost: `writeOut` one POTAD alloc and one `pwrite`; `readIn` one `pread` and one POTAD free.
 *
 * @example
 * ```ts
 * const swap = new SwapFile(potad, { bytes: 64 * MiB });
 * const slot = swap.writeOut(machine.bytes(pfn * 4096, 4096));
 * swap.readIn(slot, machine.bytes(newPfn * 4096, 4096));
 * swap.close();
 * ```
 */
export class SwapFile {
  readonly potad: Potad;
  readonly space: number;
  readonly pageSize: number;
  /** Address of slot 0; a slot's bytes sit at `slot - base` in the file. */
  readonly base: number;
  readonly path: string;
  readonly #dir: string;
  #fd: number;
  /** Pages written out and read back in so far. */
  writes = 0;
  reads = 0;

  constructor(potad: Potad, options: { bytes: number; pageSize?: number; base?: number }) {
    this.potad = potad;
    this.pageSize = options.pageSize ?? 4096;
    this.base = options.base ?? SWAP_BASE;
    this.space = potad.addSpace({ base: this.base, size: options.bytes, granule: this.pageSize });
    this.#dir = mkdtempSync(join(tmpdir(), "mmkit-swap-"));
    this.path = join(this.#dir, "swapfile");
    this.#fd = openSync(this.path, "w+");
  }

  /** Slots in use. */
  get slotsInUse(): number {
    return this.potad.stats(this.space).allocations;
  }

  /** Writes one page's bytes to a new slot and returns the slot's address, or -1 when swap is full. */
  writeOut(page: Uint8Array): number {
    if (page.length !== this.pageSize) throw new MmkitError(ErrorCode.InvalidArgument, `a swapped page is ${this.pageSize} bytes, got ${describeValue(page.length)}`);
    const slot = this.potad.alloc(this.space, this.pageSize);
    if (slot < 0) return -1;
    writeSync(this.#fd, page, 0, this.pageSize, slot - this.base);
    this.writes++;
    return slot;
  }

  /** Reads the slot's bytes into `page` and frees the slot. */
  readIn(slot: number, page: Uint8Array): void {
    const read = readSync(this.#fd, page, 0, this.pageSize, slot - this.base);
    if (read !== this.pageSize) throw new MmkitError(ErrorCode.InvalidState, `swap slot ${slot} gave back ${read} of ${this.pageSize} bytes`);
    this.potad.free(slot, this.pageSize);
    this.reads++;
  }

  /** Drops a slot without reading it (its page was freed while swapped out). */
  discard(slot: number): void {
    this.potad.free(slot, this.pageSize);
  }

  /** Closes and deletes the file. */
  close(): void {
    if (this.#fd < 0) return;
    closeSync(this.#fd);
    this.#fd = -1;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
