import * as tf from '@tensorflow/tfjs';
import { BackendUnavailableError, currentBackend, initBackend, resolveBackendPreference } from '../src/index.js';

describe('initBackend', () => {
  const lines: string[] = [];
  const log = (line: string) => lines.push(line);

  it('sets up cpu and logs one line naming it', async () => {
    const info = await initBackend('cpu', { log });
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.device).toMatch(/cores/);
    expect(lines.at(-1)).toMatch(/^\[swinmm\] backend cpu: /);
    expect(currentBackend()).toBe(info);
  });

  it('sets up wasm with its fixes installed', async () => {
    const info = await initBackend('wasm', { log });
    expect(info.name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.device).toMatch(/WebAssembly/);
    expect(tf.getKernel('Einsum', 'wasm')).toBeDefined();
  });

  it('returns the cached choice when asked again', async () => {
    const count = lines.length;
    const again = await initBackend('wasm', { log });
    expect(again.name).toBe('wasm');
    expect(lines.length).toBe(count);
  });

  it("fails for 'tensorflow' naming the packages and what they need", async () => {
    const error = await initBackend('tensorflow', { log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    const message = (error as Error).message;
    expect(message).toMatch(/@tensorflow\/tfjs-node-gpu/);
    expect(message).toMatch(/@tensorflow\/tfjs-node@/);
    expect(message).toMatch(/libtensorflow 2\.9\.1/);
    expect(message).toMatch(/CUDA 11\.2/);
    expect(message).toMatch(/cuDNN 8\.1/);
  });

  it("fails for 'webgpu' on a machine without a GPU adapter, saying why", async () => {
    const error = await initBackend('webgpu', { log }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toMatch(/backend 'webgpu' is unavailable: .*(adapter|'webgpu')/);
  });

  it("'auto' falls through tensorflow and webgpu to wasm here, and reports what it skipped", async () => {
    const info = await initBackend('auto', { log });
    expect(info.name).toBe('wasm');
    expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow', 'webgpu']);
    expect(lines.at(-1)).toMatch(/backend wasm \(auto\).*skipped tensorflow, webgpu/);
  });

  it('reads SWINMM_BACKEND and rejects unknown names', () => {
    const saved = process.env.SWINMM_BACKEND;
    try {
      process.env.SWINMM_BACKEND = 'CPU';
      expect(resolveBackendPreference()).toBe('cpu');
      expect(resolveBackendPreference('wasm')).toBe('wasm');
      process.env.SWINMM_BACKEND = 'cuda';
      expect(() => resolveBackendPreference()).toThrow(/unknown backend 'cuda' \(from the SWINMM_BACKEND\): expected one of auto, tensorflow, webgpu, wasm, cpu/);
    } finally {
      if (saved === undefined) delete process.env.SWINMM_BACKEND;
      else process.env.SWINMM_BACKEND = saved;
    }
  });
});
