import { initBackend } from '@swinmm/runtime';
import { AdamW, paramGroupsWeightDecay } from '@swinmm/train';
import {
  parseTorchCheckpoint,
  mapDdpKeys,
  loadIntoModule,
  readOptimizerState,
  weightDecayGroupOrder,
  adamWStateFromTorch,
  tensorToFloat32,
  TorchCheckpointError,
  PyDict,
} from '../src/index.js';
import { fixtureBytes } from './helpers.js';
import { miniModel } from './fake-model.js';

beforeAll(async () => {
  await initBackend('cpu', { log: () => {} });
});

describe('continuing a PyTorch AdamW run', () => {
  it("the real checkpoint's optimizer state restores into @swinmm/train's AdamW with moments in our layout", async () => {
    const root = parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root as PyDict;
    const model = miniModel();
    loadIntoModule(model, mapDdpKeys(root));
    const opt = readOptimizerState(root.get('optimizer'));
    const { order } = weightDecayGroupOrder(model.torchShapes());
    const state = adamWStateFromTorch(opt, model, order);
    expect(state.meta.groups.map((g) => [g.name, g.params.length, g.weightDecay])).toEqual([
      ['no_decay', 3, 0],
      ['decay', 2, 1e-5],
    ]);
    expect(Object.values(state.meta.steps)).toEqual([1, 1, 1, 1, 1]);
    // Conv weight moments: PyTorch [out, in, kd, kh, kw] → ours [kd, kh, kw, in, out].
    const torchM = tensorToFloat32(opt.state.get(order.indexOf('swinViT.patch_embed.proj.weight'))!.expAvg); // [12,1,2,2,2]
    const ours = state.expAvg.get('swinViT.patch_embed.proj.weight')!;
    expect(ours.shape).toEqual([2, 2, 2, 1, 12]);
    for (let o = 0; o < 12; o++) {
      for (let k = 0; k < 8; k++) expect(ours.data[k * 12 + o]).toBe(torchM[o * 8 + k]);
    }
    // The trainer accepts it and gives the same moments back.
    const adamw = new AdamW(paramGroupsWeightDecay(model.namedVariables(), { weightDecay: 1e-5 }), { lr: 1e-4 });
    adamw.setState(state);
    const back = await adamw.getState();
    for (const [name, m] of state.expAvgSq) expect(Array.from(back.expAvgSq.get(name)!.data)).toEqual(Array.from(m.data));
    expect(back.meta.steps).toEqual(state.meta.steps);
    model.dispose();
    adamw.dispose?.();
  });

  it('names that are not parameters of the model are refused', () => {
    const root = parseTorchCheckpoint(fixtureBytes('swinunetr_small_ddp_mini.pt')).root as PyDict;
    const model = miniModel();
    const opt = readOptimizerState(root.get('optimizer'));
    expect(() => adamWStateFromTorch(opt, model, ['a', 'b', 'c', 'd', 'e'])).toThrow(TorchCheckpointError);
    expect(() => adamWStateFromTorch(opt, model, ['a', 'b', 'c', 'd', 'e'])).toThrow(/"a" \(index 0\) is not a parameter of Named/);
    model.dispose();
  });
});
