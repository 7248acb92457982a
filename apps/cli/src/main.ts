#!/usr/bin/env node
// The `swinmm` executable: everything happens in runCli.
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2));
