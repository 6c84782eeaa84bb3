// What apps (the bench's `net-rx` suite) use of the receive path; the app's own entry is main.ts.
export { BYTE_STREAM_PERIOD, ByteStream } from "./byte-stream.js";
export { compareReceivePaths, receivePath, RECEIVE_PATHS, type PathFigures, type ReceivePath } from "./compare.js";
export { VerifyingConsumer } from "./consumer.js";
export { buildMemorySystem, type MemorySystem, type MemorySystemOptions } from "./memory-system.js";
export { FragmentReceiver, type ReceiverOptions, type ReceiverStats, type RxDeliver } from "./receiver.js";
export { runTransfer, type TransferOptions, type TransferReport } from "./transfer.js";
