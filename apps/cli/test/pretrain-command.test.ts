import { runCli, mainHelp, type CliIo } from '../src/cli.js';

function capture(): CliIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (l) => stdout.push(l), err: (l) => stderr.push(l) };
}

describe('swinmm pretrain', () => {
  it('is listed with its help', async () => {
    expect(mainHelp()).toMatch(/pretrain\s+SwinMM masked multi-view pre-training/);
    const io = capture();
    expect(await runCli(['pretrain', '--help'], io)).toBe(0);
    expect(io.stdout.join('\n')).toContain('--preset <paper|tiny>');
  });

  it('rejects a bad configuration before any training, naming the key or file', async () => {
    let io = capture();
    expect(await runCli(['pretrain'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/--config <file> or --preset paper\|tiny is required/);
    io = capture();
    expect(await runCli(['pretrain', '--preset', 'tiny', '--steps', '0'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/optim\.steps: expected an integer ≥ 1, found number 0/);
    io = capture();
    expect(await runCli(['pretrain', '--config', '/nonexistent/run.json'], io)).toBe(2);
    expect(io.stderr.join('\n')).toMatch(/\/nonexistent\/run\.json.*cannot read the configuration file/s);
  });
});
