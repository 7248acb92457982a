/**
 * Full-size forward parity of SSLHead against the PyTorch fixture (F12, batch 2, 64³); about a
 * minute on the 2-core machine since the fast CPU kernels of @swinmm/nn.
 */
import * as tf from '@tensorflow/tfjs';
import { detrandUniform, initBackend } from '@swinmm/runtime';
import { f32, loadSslFixture } from './helpers.js';
import { block, fixtureModel, maxAbsDiff, sha256, sub2, toNcdhw } from './model-helpers.js';

const { json, tensors } = loadSslFixture();

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('SSLHead forward (fixture ssl-head-small)', () => {
  it('reproduces the fixture forward pass at 64³, batch 2 (hidden4, rot, con, reconstruction within 1e-4)', () => {
    const model = fixtureModel();
    const xs = detrandUniform('input', [2, 1, 64, 64, 64], 0);
    expect(sha256(xs)).toBe(json.input_sha256);
    const x = tf.tensor5d(xs, [2, 64, 64, 64, 1]); // C = 1: NCDHW and NDHWC share the memory order
    const t0 = Date.now();
    const out = model.forward(x, { returnHidden: true });
    const h4 = out.hidden as tf.Tensor5D;
    const seconds = (Date.now() - t0) / 1000;
    console.log(`SSLHead F12 64³ batch 2: forward ${seconds.toFixed(1)} s on cpu`);
    expect(maxAbsDiff(toNcdhw(h4), f32(tensors, 'fwd.hidden4'))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(out.rotation.dataSync(), f32(tensors, 'fwd.rot'))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(out.contrastive.dataSync(), f32(tensors, 'fwd.con'))).toBeLessThanOrEqual(1e-4);
    const rec = out.reconstruction.dataSync() as Float32Array;
    expect(maxAbsDiff(sub2(rec, 2, 64), f32(tensors, 'fwd.rec.s2'))).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(block(rec, 2, 64), f32(tensors, 'fwd.rec.blk'))).toBeLessThanOrEqual(1e-4);
    const samples = json.results.forward.rec_samples;
    expect(maxAbsDiff(samples.flat_index.map((i) => rec[i]), samples.values)).toBeLessThanOrEqual(1e-4);
    tf.dispose([x, h4, out.rotation, out.contrastive, out.reconstruction]);
    model.dispose();
  }, 30 * 60 * 1000);
});
