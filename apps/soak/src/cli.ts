#!/usr/bin/env node
// Entry point: `node --import tsx src/cli.ts [flags]` (what `pnpm soak` runs). See README.md.
import { main } from "./command.js";

process.exitCode = main(process.argv.slice(2));
