/**
 * Reading `key=value` fields and the numbers in them, as the kernel's trace output prints them.
 * Small, allocation-light helpers shared by the kernel and mmkit line parsers.
 */

/** Returned by {@link parseTraceNumber} for text that is not a number. */
export const NOT_A_NUMBER = -1;
/** Returned by {@link parseTraceNumber} for a number above 2^53 - 1 (not exactly representable). */
export const TOO_LARGE = -2;

function isSpace(code: number): boolean {
  return code === 32 || code === 9;
}

/**
 * The value of field `key` in `body` (`"pfn"` finds `pfn=0x1baa` and returns `"0x1baa"`), or
 * `undefined` when the body has no such field. A key only matches at the start of the body or
 * after a blank, so `pfn` does not match `xpfn=`. The value runs to the next blank.
 *
 * Cost: one `indexOf` scan of the body (plus one per false match).
 *
 * @example
 * ```ts
 * fieldValue("page=0000 pfn=0x1baa order=1", "order"); // "1"
 * fieldValue("page=0000 pfn=0x1baa", "order");         // undefined
 * ```
 */
export function fieldValue(body: string, key: string): string | undefined {
  const needle = `${key}=`;
  let at = body.indexOf(needle);
  while (at !== -1) {
    if (at === 0 || isSpace(body.charCodeAt(at - 1))) {
      const start = at + needle.length;
      let end = start;
      while (end < body.length && !isSpace(body.charCodeAt(end))) end++;
      return body.slice(start, end);
    }
    at = body.indexOf(needle, at + 1);
  }
  return undefined;
}

/**
 * Parses a non-negative integer as traces print them: decimal (`7082`, older kernels' `pfn=%lu`)
 * or hex with `0x` (`0x1baa`, newer kernels' `pfn=0x%lx`). Returns {@link NOT_A_NUMBER} (-1) for
 * anything else (empty, a sign, a fraction, a stray character) and {@link TOO_LARGE} (-2) above
 * `Number.MAX_SAFE_INTEGER`.
 *
 * Cost: one pass over the characters.
 *
 * @example
 * ```ts
 * parseTraceNumber("0x1baa"); // 7082
 * parseTraceNumber("7082");   // 7082
 * parseTraceNumber("0x");     // -1
 * ```
 */
export function parseTraceNumber(text: string): number {
  const n = text.length;
  if (n === 0) return NOT_A_NUMBER;
  let value = 0;
  if (n > 2 && text.charCodeAt(0) === 48 && (text.charCodeAt(1) | 32) === 120) {
    for (let i = 2; i < n; i++) {
      const c = text.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if ((c | 32) >= 97 && (c | 32) <= 102) d = (c | 32) - 87;
      else return NOT_A_NUMBER;
      value = value * 16 + d;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c < 48 || c > 57) return NOT_A_NUMBER;
      value = value * 10 + (c - 48);
    }
  }
  return value > Number.MAX_SAFE_INTEGER ? TOO_LARGE : value;
}

/**
 * True for the ways a NULL `page=` pointer is printed: `(null)` by the kernel, `(nil)` by glibc
 * (perf, trace-cmd), `0x0`, or all zeroes.
 *
 * @example
 * ```ts
 * isNullPointer("(null)");            // true
 * isNullPointer("0000000027007a19");  // false
 * ```
 */
export function isNullPointer(text: string): boolean {
  if (text === "(null)" || text === "(nil)") return true;
  let i = text.startsWith("0x") || text.startsWith("0X") ? 2 : 0;
  if (i === text.length) return false;
  for (; i < text.length; i++) if (text.charCodeAt(i) !== 48) return false;
  return true;
}

/**
 * True for `-1UL` printed as a pfn (64-bit all ones, in hex or decimal): some raw outputs print
 * a failed allocation's pfn that way instead of 0.
 *
 * @example
 * ```ts
 * isAllOnesPfn("0xffffffffffffffff"); // true
 * ```
 */
export function isAllOnesPfn(text: string): boolean {
  if (text === "-1") return true;
  if (text.length === 20) return text === "18446744073709551615";
  return text.length === 18 && text.toLowerCase() === "0xffffffffffffffff";
}
