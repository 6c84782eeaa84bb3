/**
 * Error codes shared by every mmkit package. Misuse throws an {@link MmkitError} carrying one of
 * these; running out of memory is not misuse and returns -1 or null instead.
 */
export const ErrorCode = {
  /** NaN, a fraction, a negative number, or a value of the wrong type. */
  InvalidArgument: "ERR_INVALID_ARGUMENT",
  /** A number outside the range the callee accepts (a pfn beyond the map, an order above the max). */
  OutOfRange: "ERR_OUT_OF_RANGE",
  /** An address or pfn that is not aligned as required. */
  NotAligned: "ERR_NOT_ALIGNED",
  /** Two ranges that must not overlap do. */
  Overlap: "ERR_OVERLAP",
  /** A pfn or address in a hole of the memory map. */
  NotRam: "ERR_NOT_RAM",
  /** Freeing what is already free. */
  DoubleFree: "ERR_DOUBLE_FREE",
  /** Freeing or using an address the allocator never handed out. */
  NotAllocated: "ERR_NOT_ALLOCATED",
  /** Freeing with a size or order other than the one allocated. */
  WrongSize: "ERR_WRONG_SIZE",
  /** Backing bytes larger than the runtime can give. */
  BackingTooLarge: "ERR_BACKING_TOO_LARGE",
  /** A metadata allocation while the arena is sealed (for example during a free that must not allocate). */
  ArenaSealed: "ERR_ARENA_SEALED",
  /** An operation on an object in a state that does not allow it (giving back a space still in use). */
  InvalidState: "ERR_INVALID_STATE",
  /** A range that must be empty is occupied. */
  Occupied: "ERR_OCCUPIED",
  /** `check()` found a broken invariant. */
  Invariant: "ERR_INVARIANT",
  /** Attaching to shared memory laid out by another version or for another shape of object. */
  LayoutMismatch: "ERR_LAYOUT_MISMATCH",
  /** A fixed-capacity arena has no room for the array asked for. */
  ArenaFull: "ERR_ARENA_FULL",
  /** Using an object after `detach()` (a shared allocator this worker let go of). */
  Detached: "ERR_DETACHED",
} as const;

/** One of {@link ErrorCode}'s values; packages may add their own codes. */
export type MmkitErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * The typed error every mmkit package throws for misuse. `code` says what kind of misuse, the
 * message names the offending value, and the object that threw is left exactly as it was.
 *
 * @example
 * ```ts
 * try { map.nodeOfOrThrow(-1); } catch (e) { if (e instanceof MmkitError) console.log(e.code); }
 * ```
 */
export class MmkitError extends Error {
  /** What went wrong, as a stable string (`ERR_*`) to branch on; the message is for people. */
  readonly code: MmkitErrorCode | (string & {});
  constructor(code: MmkitErrorCode | (string & {}), message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Prints a value for an error message: numbers exactly, strings quoted, anything else by type.
 *
 * @example
 * ```ts
 * describeValue("x");         // "\"x\""
 * describeValue(1.5);         // "1.5"
 * describeValue(undefined);   // "undefined"
 * describeValue({});          // "object"
 * ```
 */
export function describeValue(value: unknown): string {
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value === null || value === undefined) return String(value);
  return typeof value;
}
