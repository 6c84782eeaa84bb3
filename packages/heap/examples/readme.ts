import { Heap } from "@mmkit/heap";

// Your buffer (an ArrayBuffer, a SharedArrayBuffer or a WebAssembly.Memory), and a heap over it.
const heap = new Heap(new ArrayBuffer(1 << 20));

// Addresses are byte offsets into the buffer: 0 is a valid address, -1 means "no memory".
const points = heap.malloc(3 * 4 * 100); // 100 xyz points of float32
console.log(points); // => 0
const xyz = heap.f32(points); // a Float32Array over exactly those bytes
xyz.set([1, 2, 3]);
console.log(heap.sizeOf(points), heap.usableSize(points), xyz.length); // => 1200 1200 300

// calloc zeroes; realloc keeps the bytes; alignment goes up to the page size and beyond.
const counts = heap.calloc(16, 4);
const bigger = heap.realloc(points, 4000);
console.log(heap.f32(bigger, 3).join(","), heap.u32(counts).every((v) => v === 0)); // => 1,2,3 true
const aligned = heap.malloc(100, 4096);
console.log(aligned % 4096); // => 0

// Asking for more than there is returns -1; misuse throws a typed error and changes nothing.
console.log(heap.malloc(2 << 20)); // => -1
try {
  heap.free(12345);
} catch (e) {
  console.log((e as { code: string }).code); // => ERR_NOT_ALLOCATED
}
heap.free(counts);
try {
  heap.free(counts);
} catch (e) {
  console.log((e as { code: string }).code); // => ERR_DOUBLE_FREE
}

// A WebAssembly.Memory grows when the heap is full, and the bytes stay where they were.
const wasm = new WebAssembly.Memory({ initial: 1, maximum: 16 });
const wheap = new Heap(wasm);
const first = wheap.malloc(1000);
wheap.u8(first).fill(7);
const big = wheap.malloc(200_000); // more than the 64 KiB there was
console.log(big > 0, wasm.buffer.byteLength > 65536, wheap.u8(first)[999]); // => true true 7
heap.check();
wheap.check();
