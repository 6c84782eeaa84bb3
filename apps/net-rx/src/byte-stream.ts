/** Bytes in one period of the stream: a prime, so no power-of-two chunking lines up with it. */
export const BYTE_STREAM_PERIOD = 1_048_573;
const PERIOD = BYTE_STREAM_PERIOD;

/**
 * A deterministic pseudo-random byte stream: a period of {@link PERIOD} bytes drawn from xorshift32
 * with the seed, repeated. The period is prime, so a chunk delivered at the wrong place, twice or
 * not at all (all of which shift by a power-of-two multiple of the read size) fails the check. The
 * sender fills its writes from one instance; the receiver checks what arrived against another with
 * the same seed, so every byte of a multi-megabyte transfer is verified without keeping a copy.
 *
 * Cost: `fill` is a copy from the period table; `verify` a compare loop. Construction draws the
 * period once (about 1 MiB).
 *
 * @example
 * ```ts
 * const tx = new ByteStream(42);
 * const rx = new ByteStream(42);
 * const chunk = new Uint8Array(1000);
 * tx.fill(chunk);
 * rx.verify(chunk);   // -1: every byte as expected
 * ```
 */
export class ByteStream {
  readonly #table: Uint8Array;
  #at = 0;
  /** Bytes produced (filled or verified) so far. */
  position = 0;

  constructor(seed: number) {
    const table = new Uint8Array(PERIOD);
    let x = seed >>> 0 || 0x9e3779b9;
    for (let i = 0; i < PERIOD; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      table[i] = x >>> 24;
    }
    this.#table = table;
  }

  /** Fills `target` with the next `target.length` bytes of the stream. */
  fill(target: Uint8Array): void {
    let done = 0;
    while (done < target.length) {
      const n = Math.min(target.length - done, PERIOD - this.#at);
      target.set(this.#table.subarray(this.#at, this.#at + n), done);
      done += n;
      this.#at = (this.#at + n) % PERIOD;
    }
    this.position += target.length;
  }

  /**
   * Checks that `data` is the next `data.length` bytes of the stream; returns -1 when it is, else
   * the stream position of the first wrong byte (the stream advances either way).
   */
  verify(data: Uint8Array): number {
    const table = this.#table;
    let at = this.#at;
    let bad = -1;
    for (let i = 0; i < data.length; i++) {
      if (data[i] !== table[at] && bad < 0) bad = this.position + i;
      if (++at === PERIOD) at = 0;
    }
    this.#at = at;
    this.position += data.length;
    return bad;
  }
}
