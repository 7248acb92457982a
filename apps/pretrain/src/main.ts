#!/usr/bin/env node
// Entry point of `nx run pretrain:run -- --config <file>`.
import { pretrainMain } from './cli.js';

process.exitCode = await pretrainMain(process.argv.slice(2));
