import type { FragmentCache } from "@mmkit/frag-cache";

/** A received chunk: a live fragment of the cache and how many of its bytes the read filled. */
export interface RxChunk {
  address: number;
  length: number;
}

/** Counters of a {@link FragmentReceiver}. */
export interface ReceiverStats {
  /** Reads the socket completed into fragments. */
  reads: number;
  /** Bytes received. */
  bytes: number;
  /** Reads that went to the emergency buffer because the cache had no memory (then copied). */
  emergencyReads: number;
  /** Fragment bytes handed to the socket but not filled by its reads (rx buffer slack). */
  slackBytes: number;
}

/**
 * The receive ring: supplies every read of a socket with a fresh fragment from a
 * {@link FragmentCache} (Node's `onread: { buffer, callback }` socket option, so the kernel's data
 * lands straight in the fragment's bytes), and hands each filled fragment to `deliver`, which owns
 * it from then on and must free it. As a NIC driver does, it asks for the next buffer as soon as a
 * read completes; the one left over when the socket closes is freed by {@link close}.
 *
 * When the cache has no memory, the read goes to a small emergency buffer and the data is delivered
 * as a copy in a fragment of its exact size, or, failing that too, `deliver` gets address -1 with a
 * copy in `copy` (counted as an emergency read).
 *
 * @example
 * ```ts
 * const rx = new FragmentReceiver(cache, 2048, (chunk) => consumer.push(chunk));
 * const socket = net.connect({ port, host: "127.0.0.1", onread: rx.onread });
 * socket.on("close", () => rx.close());
 * ```
 */
export class FragmentReceiver {
  readonly cache: FragmentCache;
  readonly fragSize: number;
  readonly stats: ReceiverStats = { reads: 0, bytes: 0, emergencyReads: 0, slackBytes: 0 };
  /** The `onread` option for `net.connect` / `new net.Socket`. */
  readonly onread: { buffer: () => Uint8Array; callback: (nread: number, buf: Uint8Array) => boolean };
  #pending = -1;
  #emergency: Uint8Array;
  #deliver: (chunk: RxChunk, copy?: Uint8Array) => void;

  constructor(cache: FragmentCache, fragSize: number, deliver: (chunk: RxChunk, copy?: Uint8Array) => void) {
    this.cache = cache;
    this.fragSize = fragSize;
    this.#deliver = deliver;
    this.#emergency = new Uint8Array(fragSize);
    this.onread = {
      buffer: () => this.#nextBuffer(),
      callback: (nread, buf) => this.#received(nread, buf),
    };
  }

  #nextBuffer(): Uint8Array {
    const address = this.cache.alloc(this.fragSize);
    this.#pending = address;
    // Exactly fragSize bytes: the fragment itself is rounded up to 16 bytes, and a read must not
    // fill more than the buffer size it asked for.
    return address === -1 ? this.#emergency : this.cache.view(address, this.fragSize);
  }

  #received(nread: number, buf: Uint8Array): boolean {
    this.stats.reads++;
    this.stats.bytes += nread;
    const address = this.#pending;
    this.#pending = -1;
    if (address === -1) {
      this.stats.emergencyReads++;
      const exact = this.cache.alloc(nread);
      if (exact !== -1) {
        this.cache.view(exact, nread).set(buf.subarray(0, nread));
        this.#deliver({ address: exact, length: nread });
      } else this.#deliver({ address: -1, length: nread }, buf.slice(0, nread));
      return true;
    }
    this.stats.slackBytes += this.fragSize - nread;
    this.#deliver({ address, length: nread });
    return true;
  }

  /** Frees the fragment handed out for a read that never came (call when the socket closes). */
  close(): void {
    if (this.#pending !== -1) this.cache.free(this.#pending);
    this.#pending = -1;
  }
}
