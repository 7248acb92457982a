/**
 * What a `swinmm` command is. Adding a command = one file in `commands/` exporting a
 * {@link Command}, plus one line in `commands/index.ts`.
 *
 * @module
 */

/** Where a command writes (injectable, so that tests capture the output). */
export interface CliIo {
  /** A line for standard output. */
  out(line: string): void;
  /** A line for standard error. */
  err(line: string): void;
}

/** One option of a command, in `node:util` `parseArgs` terms plus help text. */
export interface CommandOption {
  /** `string` takes a value, `boolean` is a flag. */
  type: 'string' | 'boolean';
  /** One-letter alias. */
  short?: string;
  /** Shown by `--help`; for string options, `valueName` names the value. */
  description: string;
  /** The value's name in the help (e.g. `NAME|FILE`). */
  valueName?: string;
  /** Default for string options. */
  default?: string;
}

/** Parsed arguments handed to {@link Command.run}. */
export interface CommandArgs {
  /** Positional arguments. */
  positionals: string[];
  /** Option values by name (`--strict` → `strict: true`). */
  values: Record<string, string | boolean | undefined>;
}

/** A sub-command of `swinmm`. */
export interface Command {
  /** The word after `swinmm`. */
  name: string;
  /** One line for `swinmm --help`. */
  summary: string;
  /** Usage line(s) after the command name, e.g. `<in> <out> [options]`. */
  usage: string;
  /** Paragraphs shown by `swinmm <name> --help` after the usage. */
  description?: string;
  /** Options (`--help` is added by the dispatcher). */
  options: Record<string, CommandOption>;
  /** Runs the command; returns the exit code. Throw {@link CliError} for user errors. */
  run(args: CommandArgs, io: CliIo): Promise<number>;
}

/** A mistake by the user (bad arguments, unreadable file): printed without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    /** The exit code (default 2, "usage error"). */
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
