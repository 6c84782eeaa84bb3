/**
 * What a whole memory system is made of, as data: the machine, the page allocator, the descriptor
 * table and which caches sit on top. {@link buildSystem} turns a definition into a running system,
 * so a new composition is one more line in {@link SYSTEMS} (or one edited field).
 */

/** The page allocator under everything: the Linux-style buddy allocator, or POTAD's page face. */
export type PageAllocatorKind = "buddy" | "potad";

/**
 * Where the system records which descriptor owns each page: a 64-byte-per-page memmap (`struct
 * page`), an 8-byte-per-page memdesc array (a `MemmapTable` of width 8), or a maple tree with one
 * entry per allocation.
 */
export type DescriptorTableKind = "memmap-64" | "memdesc-8" | "maple";

/** A system, declaratively. Every field is one choice; {@link buildSystem} reads nothing else. */
export interface SystemDefinition {
  /** What `--system` selects and reports show, e.g. "classic". */
  name: string;
  /** One line for reports. */
  description: string;
  pageAllocator: PageAllocatorKind;
  /** Buddy only: allocate through CPU 0's per-CPU lists (`buddy.cpu(0)`), as the kernel does for orders 0-3. */
  perCpuLists: boolean;
  /** Buddy only: largest order (the kernel's MAX_PAGE_ORDER, 10 = 4 MiB). */
  maxOrder?: number;
  /** POTAD only: the RAM space's granule in bytes (512 lets the same space serve sub-page sizes). */
  granule?: number;
  descriptors: DescriptorTableKind;
  /** A page_frag_cache for network receive fragments over the page allocator. */
  fragmentCache: boolean;
  /** A PTE-mapped page cache refilled from 2 MiB blocks, registered as a shrinker when there is a registry. */
  pteCache: boolean;
  /** A shrinker registry, with allocations going through direct reclaim (and a swap-backed anon LRU). */
  shrinker: boolean;
}

const caches = { fragmentCache: true, pteCache: true, shrinker: true } as const;

/**
 * The systems the bench ships. `classic` and `memdesc` are the two designs the memdesc discussion
 * compares; the crossings change one component each, so a difference can be pinned on it.
 */
export const SYSTEMS: readonly SystemDefinition[] = [
  { name: "classic", description: "buddy + per-CPU lists + 64-byte memmap + caches + shrinker", pageAllocator: "buddy", perCpuLists: true, descriptors: "memmap-64", ...caches },
  { name: "memdesc", description: "POTAD + maple tree + caches + shrinker", pageAllocator: "potad", perCpuLists: false, granule: 512, descriptors: "maple", ...caches },
  { name: "buddy+maple", description: "classic with the maple tree instead of the memmap", pageAllocator: "buddy", perCpuLists: true, descriptors: "maple", ...caches },
  { name: "potad+memmap", description: "memdesc with the 64-byte memmap instead of the maple tree", pageAllocator: "potad", perCpuLists: false, granule: 512, descriptors: "memmap-64", ...caches },
  { name: "potad+memdesc8", description: "POTAD + an 8-byte memdesc array per page + caches + shrinker", pageAllocator: "potad", perCpuLists: false, granule: 512, descriptors: "memdesc-8", ...caches },
];

/**
 * The shipped system named `name`, or undefined.
 *
 * @example
 * ```ts
 * systemNamed("classic")?.pageAllocator; // "buddy"
 * ```
 */
export function systemNamed(name: string): SystemDefinition | undefined {
  return SYSTEMS.find((s) => s.name === name);
}
