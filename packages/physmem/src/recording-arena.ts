import { MetadataArena, type MetadataArray, type TypedArrayKind } from "./arena.js";

/**
 * One array as a {@link RecordingArena} handed it out.
 *
 * @example
 * ```ts
 * const recording = new RecordingArena();
 * const next = recording.int32(8, "next");
 * recording.arrays();   // [{ kind: "int32", label: "next", array: next }]
 * ```
 */
export interface RecordedArray {
  /** Which typed array it is ("int32", "float64", ...). */
  readonly kind: TypedArrayKind;
  /** The label it was asked for with. */
  readonly label: string;
  /** The array itself. */
  readonly array: MetadataArray;
}

const KIND_OF = new Map<unknown, TypedArrayKind>([
  [Uint8Array, "uint8"],
  [Int8Array, "int8"],
  [Uint16Array, "uint16"],
  [Int16Array, "int16"],
  [Uint32Array, "uint32"],
  [Int32Array, "int32"],
  [Float64Array, "float64"],
]);

/**
 * A {@link MetadataArena} that remembers every array it hands out, in order, with its kind and
 * label. It is how an object built the ordinary way (its constructor filling its arrays) is moved
 * into shared memory: build it on a recording arena, then `SharedMetadataArena.copyOf(recording)`
 * lays the same arrays out in one `SharedArrayBuffer` and copies their contents, so the creator's
 * constructor code is the only initialiser there is.
 *
 * Cost: one array push per array handed out, on top of {@link MetadataArena}'s.
 *
 * @example
 * ```ts
 * const recording = new RecordingArena();
 * const next = recording.int32(4, "next");
 * recording.arrays(); // [{ kind: "int32", label: "next", array: next }]
 * ```
 */
export class RecordingArena extends MetadataArena {
  #arrays: RecordedArray[] = [];

  /** The live arrays handed out so far, in the order they were asked for. */
  arrays(): readonly RecordedArray[] {
    return this.#arrays.slice();
  }

  override release(array: MetadataArray): void {
    super.release(array);
    this.#arrays = this.#arrays.filter((r) => r.array !== array);
  }

  protected override expose(array: MetadataArray, label: string): MetadataArray {
    this.#arrays.push({ kind: KIND_OF.get(array.constructor)!, label, array });
    return array;
  }
}
