import { MapleTree, MapleDescriptorTable, MemmapTable, MemdescType, DescriptorRouter, encodeMemdesc, memdescType } from "@mmkit/memdesc-lookup";
import { MetadataArena } from "@mmkit/physmem";

// A maple tree maps ranges of integer indices to numbers.
const tree = new MapleTree();
tree.store(0x100, 0x1ff, 1);
tree.store(0x180, 0x18f, 2); // overwrites part of [0x100, 0x1ff], which is cut in two
console.log(tree.size); // => 3
console.log(tree.loadRange(0x1a0)); // => { "first": 400, "last": 511, "value": 1 }
console.log(tree.insert(0x150, 0x250, 3)); // => false
console.log(tree.find(0x200)); // => undefined

// Gap search and allocation, as for VMAs: the lowest free run of 0x80 indices at or above 0x100.
console.log(tree.emptyArea(0x100, 0xffff, 0x80)); // => 512
console.log(tree.allocRange(0x100, 0xffff, 0x80, 4)); // => 512

// Snapshot readers see the tree as it was, whatever writers do meanwhile.
const snap = tree.snapshot();
tree.erase(0x180);
console.log(snap.load(0x185), tree.load(0x185)); // => 2 undefined
snap.release();

// The 8-byte memdesc: a 4-bit type over a 16-byte-aligned descriptor handle.
const slab = encodeMemdesc(MemdescType.Slab, 0x7f00);
console.log(memdescType(slab)); // => 5

// Two interchangeable pfn -> memdesc tables, with their metadata counted in an arena.
const arena = new MetadataArena();
const maple = new MapleDescriptorTable({ arena });
const memmap = new MemmapTable({ pages: 262144, bytesPerPage: 64, arena }); // 1 GiB of 4 KiB pages
for (const table of [maple, memmap]) table.set(1024, 1535, slab); // one 2 MiB slab
// The tree starts with room for 4 leaves and 1 inner node; the memmap pays for every page.
console.log(memmap.metadataBytes); // => 16777216
console.log(maple.metadataBytes); // => 1694

// From any physical address to the descriptor, its range and its owner.
const router = new DescriptorRouter(maple);
router.setOwner(MemdescType.Slab, { name: "slab", memoryFailure: (d) => console.log(`${d.owner?.name} loses ${d.firstPfn}-${d.lastPfn}`) });
console.log(router.physToDesc(1100 * 4096 + 12)?.typeName); // => slab
router.memoryFailure(1300); // => slab loses 1024-1535
