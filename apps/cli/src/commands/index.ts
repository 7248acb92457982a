/**
 * Every `swinmm` command, in the order `--help` lists them. To add one, write
 * `commands/<name>.ts` exporting a `Command` and add it here.
 *
 * @module
 */
import type { Command } from '../command.js';
import { convertCommand } from './convert.js';
import { evaluateCommand } from './evaluate.js';
import { finetuneCommand } from './finetune.js';
import { inferCommand } from './infer.js';
import { pretrainCommand } from './pretrain.js';

/** The commands of `swinmm`. */
export const COMMANDS: readonly Command[] = [convertCommand, evaluateCommand, pretrainCommand, finetuneCommand, inferCommand];
