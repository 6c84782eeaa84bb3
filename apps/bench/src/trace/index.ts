export { TraceEventKind, TRACE_EVENT_KIND_NAMES, MAX_TRACE_ORDER, type TraceRecord, type TraceEventKindName } from "./events.js";
export { TraceError, TraceErrorCode } from "./errors.js";
export { fieldValue, parseTraceNumber, isNullPointer, isAllOnesPfn, NOT_A_NUMBER, TOO_LARGE } from "./fields.js";
export { parseKernelLine, KernelLineClass } from "./kernel-line.js";
export { parseMmkitLine, IdTable } from "./mmkit-line.js";
export { TraceParser, parseTraceLines, parseTraceText, type TraceFormat, type TraceParserOptions, type TraceParseSummary, type TraceProblem } from "./parser.js";
export type { PageAllocator } from "./page-allocator.js";
export { TraceReplayer, replayTrace, type ReplayOptions, type ReplayProgress, type ReplayReport, type PhaseReport } from "./replay.js";
export { parseTraceFile, replayTraceFile, readTraceText, isGzipFile } from "./read-file.js";
