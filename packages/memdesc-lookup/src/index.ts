export { MapleTree, type MapleTreeOptions } from "./maple-tree.js";
export { MapleSnapshot } from "./maple-snapshot.js";
export { MapleView, MapleCursor, type MapleEntry } from "./maple-view.js";
export { MAX_INDEX } from "./limits.js";
export { LOAD_MANY_LOCKSTEP } from "./maple-view.js";
export {
  MemdescType,
  MiscSubtype,
  MEMDESC_ALIGN,
  MAX_MEMDESC_HANDLE,
  encodeMemdesc,
  memdescType,
  memdescHandle,
  memdescTypeName,
  isMemdesc,
  encodeMisc,
  decodeMisc,
} from "./memdesc.js";
export type { DescriptorTable, PfnRange } from "./descriptor-table.js";
export { MapleDescriptorTable } from "./maple-descriptor-table.js";
export { MemmapTable, type MemmapTableOptions } from "./memmap-table.js";
export { physToDesc, DescriptorRouter, type PhysDesc, type DescriptorOwner } from "./phys-to-desc.js";
