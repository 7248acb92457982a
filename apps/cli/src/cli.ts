/**
 * The `swinmm` dispatcher: `swinmm <command> [args]`, `swinmm --help`, `swinmm --version`,
 * `swinmm <command> --help`.
 * Arguments are parsed with `node:util` `parseArgs` from each command's option table.
 *
 * @packageDocumentation
 */
import { parseArgs } from 'node:util';
import { WeightsFormatError } from '@swinmm/weights';
import { CliError, type CliIo, type Command } from './command.js';
import { COMMANDS } from './commands/index.js';
import { CLI_VERSION } from './version.js';

export { CliError, type CliIo, type Command, type CommandArgs, type CommandOption } from './command.js';
export { COMMANDS } from './commands/index.js';
export { CLI_VERSION } from './version.js';

/** The process's stdout/stderr as a {@link CliIo}. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** `swinmm --help`. */
export function mainHelp(commands: readonly Command[] = COMMANDS): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: swinmm <command> [arguments] [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    "Run 'swinmm <command> --help' for a command's arguments and options, 'swinmm --version' for the version.",
  ].join('\n');
}

/** `swinmm <command> --help`. */
export function commandHelp(c: Command): string {
  const rows = Object.entries(c.options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.valueName ?? 'value'}>` : ''}`;
    const def = o.default !== undefined ? ` (default: ${o.default})` : '';
    return [flag, `${o.description}${def}`];
  });
  rows.push(['-h, --help', 'show this help']);
  const width = Math.max(...rows.map(([f]) => f.length));
  return [
    `usage: swinmm ${c.name} ${c.usage}`,
    '',
    c.summary,
    ...(c.description ? ['', c.description] : []),
    '',
    'options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`),
  ].join('\n');
}

/**
 * Run `swinmm` with `argv` (without `node` and the script). Returns the exit code: 0 success,
 * 1 the command failed, 2 usage error.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo, commands: readonly Command[] = COMMANDS): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(mainHelp(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V') {
    io.out(`swinmm ${CLI_VERSION}`);
    return 0;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`swinmm: unknown command "${name}" (expected one of: ${commands.map((c) => c.name).join(', ')})`);
    io.err("Run 'swinmm --help' for usage.");
    return 2;
  }
  let parsed;
  try {
    const options: Record<string, { type: 'string' | 'boolean'; short?: string; default?: string }> = {
      help: { type: 'boolean', short: 'h' },
    };
    for (const [k, o] of Object.entries(command.options)) {
      options[k] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.default !== undefined ? { default: o.default } : {}) };
    }
    parsed = parseArgs({ args: [...rest], options, allowPositionals: true, strict: true });
  } catch (error) {
    io.err(`swinmm ${name}: ${error instanceof Error ? error.message : String(error)}`);
    io.err(`Run 'swinmm ${name} --help' for usage.`);
    return 2;
  }
  if (parsed.values.help) {
    io.out(commandHelp(command));
    return 0;
  }
  try {
    return await command.run({ positionals: parsed.positionals, values: parsed.values as Record<string, string | boolean | undefined> }, io);
  } catch (error) {
    if (error instanceof CliError) {
      io.err(`swinmm ${name}: ${error.message}`);
      return error.exitCode;
    }
    // Bad files (malformed weights, fs errors such as ENOENT) carry complete messages: print them
    // without a stack; anything else is a bug and keeps its stack.
    const fsError = error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code ?? '');
    if (error instanceof WeightsFormatError || fsError) {
      io.err(`swinmm ${name}: ${error.message}`);
      return 1;
    }
    io.err(`swinmm ${name}: unexpected failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    return 1;
  }
}
