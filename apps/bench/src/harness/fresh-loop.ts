/** Copies made so far: each copy's source carries its number (see {@link freshLoop}). */
let copies = 0;

/**
 * A freshly compiled copy of `loop`: same source, its own JIT type feedback. Give each contender of a
 * timed set its own copy of a shared loop, so that one contender's types (another allocator's
 * classes, another table's arrays) never make the loop polymorphic for the next, and no contender
 * gets the first-instance specialisation the others miss.
 *
 * Each copy's source is made unique with a numbered comment. V8 caches what `new Function` compiles
 * by source text: from the second copy of the same source on, every copy came back from that cache
 * with one shared function and one shared feedback vector, so the second and later contenders of a
 * loop all fed one copy (measured: a per-CPU buddy churn at 2-7x its own figure after a free-list
 * contender's copy had run).
 *
 * `loop` must be self-contained: it may use only its parameters and globals (no imports, no variables
 * from an enclosing scope), because the copy is compiled from its source text alone.
 *
 * Cost: one compilation of `loop`'s source per call.
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
  copies++;
  return new Function(`"use strict"; // fresh copy ${copies}\nreturn (${loop.toString()});`)() as F;
}
