#!/usr/bin/env node
// Entry point: `node --import tsx src/cli.ts [flags]` (what `pnpm bench` runs). See README.md.
import { main } from "./command.js";

process.exitCode = await main(process.argv.slice(2));
