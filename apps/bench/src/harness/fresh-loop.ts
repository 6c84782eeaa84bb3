/**
 * A freshly compiled copy of `loop`: same source, its own JIT type feedback. Give each contender of a
 * timed set its own copy of a shared loop, so that one contender's types (another allocator's
 * classes, another table's arrays) never make the loop polymorphic for the next, and no contender
 * gets the first-instance specialisation the others miss.
 *
 * `loop` must be self-contained: it may use only its parameters and globals (no imports, no variables
 * from an enclosing scope), because the copy is compiled from its source text alone.
 *
 * @example
 * ```ts
 * setup() {
 *   const run = freshLoop(pageChurnLoop);   // this contender's own compiled loop
 *   return (ops) => run(face, state, ops);
 * }
 * ```
 */
export function freshLoop<F extends (...args: never[]) => number>(loop: F): F {
  return new Function(`"use strict"; return (${loop.toString()});`)() as F;
}
