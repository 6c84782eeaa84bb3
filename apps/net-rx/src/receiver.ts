import type { FragmentCache } from "@mmkit/frag-cache";

/**
 * Where a filled fragment goes: its address in the cache and how many bytes the read filled, or
 * address -1 with the bytes in `copy` (an emergency read the cache had no memory for). Plain
 * numbers, so a read creates no object.
 */
export type RxDeliver = (address: number, length: number, copy: Uint8Array | null) => void;

/** Most fragment-slot views kept per size. */
const MAX_CACHED_VIEWS = 1 << 16;

/** Counters of a {@link FragmentReceiver}. */
export interface ReceiverStats {
  /** Reads the socket completed into fragments. */
  reads: number;
  /** Bytes those reads carried. */
  bytes: number;
  /** Reads that found the cache empty and went to the emergency buffer. */
  emergencyReads: number;
  /** Bytes of read buffers the reads did not fill. */
  slackBytes: number;
  /** `Uint8Array` views made for read buffers: one per fragment slot and size, then reused. */
  viewsMade: number;
  /** Times the adaptive fragment size doubled or halved. */
  resizes: number;
  /** The largest read buffer size used. */
  peakFragSize: number;
}

/** Options for {@link FragmentReceiver}. */
export interface ReceiverOptions {
  /** Bytes per read buffer (1..32768), the first size when adaptive (default 2048). */
  fragSize?: number;
  /**
   * Adapt the fragment size to the reads: a read that fills its buffer doubles the next one (up to
   * `maxFragSize`), a read that fills less than a quarter halves it (down to `minFragSize`), as a
   * driver sizes its receive buffers to the traffic.
   */
  adaptive?: boolean;
  /** Bounds of the adaptive size (defaults 256 and 32768, the fragment cache's block). */
  minFragSize?: number;
  maxFragSize?: number;
}

/**
 * The receive ring: supplies every read of a socket with a fresh fragment from a
 * {@link FragmentCache} (Node's `onread: { buffer, callback }` socket option, so the kernel's data
 * lands straight in the fragment's bytes), and hands each filled fragment to `deliver`, which owns
 * it from then on and must free it. As a NIC driver does, it asks for the next buffer as soon as a
 * read completes; the one left over when the socket closes is freed by {@link close}.
 *
 * A read allocates no object: the view handed to Node for a fragment is made once per fragment slot
 * (address and size) and reused whenever the cache gives that slot out again (the cache recycles its
 * blocks, so the slots repeat), and `deliver` takes plain numbers.
 *
 * When the cache has no memory, the read goes to a small emergency buffer and the data is delivered
 * as a copy in a fragment of its exact size, or, failing that too, `deliver` gets address -1 with a
 * copy (counted as an emergency read).
 *
 * @example
 * ```ts
 * const rx = new FragmentReceiver(cache, { fragSize: 2048, adaptive: true }, (address, length, copy) => consumer.push(address, length, copy));
 * const socket = net.connect({ port, host: "127.0.0.1", onread: rx.onread });
 * socket.on("close", () => rx.close());
 * ```
 */
export class FragmentReceiver {
  readonly cache: FragmentCache;
  readonly adaptive: boolean;
  readonly minFragSize: number;
  readonly maxFragSize: number;
  readonly stats: ReceiverStats = { reads: 0, bytes: 0, emergencyReads: 0, slackBytes: 0, viewsMade: 0, resizes: 0, peakFragSize: 0 };
  readonly onread: { buffer: () => Uint8Array; callback: (nread: number, buf: Uint8Array) => boolean };
  #fragSize: number;
  /** The size the pending buffer was asked with. */
  #pendingSize = 0;
  #pending = -1;
  #emergency: Uint8Array;
  #deliver: RxDeliver;
  /** Views of fragment slots, by size then address. */
  #views = new Map<number, Map<number, Uint8Array>>();
  #viewsOfSize: Map<number, Uint8Array>;

  constructor(cache: FragmentCache, options: ReceiverOptions | number, deliver: RxDeliver) {
    const o: ReceiverOptions = typeof options === "number" ? { fragSize: options } : options;
    this.cache = cache;
    this.adaptive = o.adaptive === true;
    this.minFragSize = o.minFragSize ?? 256;
    this.maxFragSize = o.maxFragSize ?? 32768;
    this.#fragSize = o.fragSize ?? 2048;
    if (!(this.minFragSize >= 1 && this.minFragSize <= this.#fragSize && this.#fragSize <= this.maxFragSize && this.maxFragSize <= 32768)) {
      throw new RangeError(`fragment sizes must satisfy 1 <= min ${this.minFragSize} <= size ${this.#fragSize} <= max ${this.maxFragSize} <= 32768`);
    }
    this.#deliver = deliver;
    this.#emergency = new Uint8Array(this.maxFragSize);
    this.#viewsOfSize = this.#viewMap(this.#fragSize);
    this.stats.peakFragSize = this.#fragSize;
    this.onread = {
      buffer: () => this.#nextBuffer(),
      callback: (nread, buf) => this.#received(nread, buf),
    };
  }

  /** Bytes the next read buffer will have. */
  get fragSize(): number {
    return this.#fragSize;
  }

  #viewMap(size: number): Map<number, Uint8Array> {
    let m = this.#views.get(size);
    if (m === undefined) {
      m = new Map();
      this.#views.set(size, m);
    }
    return m;
  }

  #nextBuffer(): Uint8Array {
    const size = this.#fragSize;
    const address = this.cache.alloc(size);
    this.#pending = address;
    this.#pendingSize = size;
    if (address === -1) return this.#emergency.subarray(0, size);
    // Exactly `size` bytes: the fragment itself is rounded up to 16 bytes, and a read must not fill
    // more than the buffer size it asked for.
    let view = this.#viewsOfSize.get(address);
    if (view === undefined) {
      view = this.cache.view(address, size);
      // Bounded: past MAX_CACHED_VIEWS slots of one size (sizes mixed in a block scatter the slots), views are made per read.
      if (this.#viewsOfSize.size < MAX_CACHED_VIEWS) this.#viewsOfSize.set(address, view);
      this.stats.viewsMade++;
    }
    return view;
  }

  #received(nread: number, buf: Uint8Array): boolean {
    const stats = this.stats;
    stats.reads++;
    stats.bytes += nread;
    const address = this.#pending;
    const size = this.#pendingSize;
    this.#pending = -1;
    if (this.adaptive) this.#adapt(nread, size);
    if (address === -1) {
      stats.emergencyReads++;
      const exact = this.cache.alloc(nread);
      if (exact !== -1) {
        this.cache.view(exact, nread).set(buf.subarray(0, nread));
        this.#deliver(exact, nread, null);
      } else this.#deliver(-1, nread, buf.slice(0, nread));
      return true;
    }
    stats.slackBytes += size - nread;
    this.#deliver(address, nread, null);
    return true;
  }

  #adapt(nread: number, size: number): void {
    let next = this.#fragSize;
    if (nread >= size && size * 2 <= this.maxFragSize) next = size * 2;
    else if (nread * 4 < size && size / 2 >= this.minFragSize) next = Math.ceil(size / 2);
    if (next !== this.#fragSize) {
      this.#fragSize = next;
      this.#viewsOfSize = this.#viewMap(next);
      this.stats.resizes++;
      if (next > this.stats.peakFragSize) this.stats.peakFragSize = next;
    }
  }

  /** Frees the buffer of the read that never came. */
  close(): void {
    if (this.#pending !== -1) this.cache.free(this.#pending);
    this.#pending = -1;
  }
}
