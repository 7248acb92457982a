// The README's example, run as written (with the cpu backend set up the project's way).
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '@swinmm/runtime';
import { multiViewFusion, slidingWindowInference, type TwoViewPredictor } from '../src/index.js';

it('README example runs and gives the documented shapes', async () => {
  await initBackend('cpu', { log: () => {} });
  const image = tf.randomUniform([1, 20, 18, 15, 1]) as tf.Tensor5D;
  const toLogits = (w: tf.Tensor5D) => tf.tidy(() => tf.concat([w, w.mul(-1), tf.zerosLike(w)], 4) as tf.Tensor5D);
  const progress: string[] = [];
  const logits = await slidingWindowInference(image, [16, 16, 16], 4, toLogits, {
    overlap: 0.5,
    mode: 'gaussian',
    onProgress: ({ windowsDone, windowsTotal }) => progress.push(`${windowsDone}/${windowsTotal}`),
  });
  expect(logits.shape).toEqual([1, 20, 18, 15, 3]);
  // x: 20 → starts 0, 4; y: 18 → 0, 2; z: 15 is padded to 16 → one start: 4 windows, one batch
  expect(progress).toEqual(['4/4']);
  const twoView: TwoViewPredictor = (xa, xb) => [toLogits(xa), toLogits(xb)];
  const { probabilities, labels } = await multiViewFusion(image, [16, 16, 16], 4, twoView, { overlap: 0.5, mode: 'gaussian' });
  expect(probabilities.shape).toEqual([1, 20, 18, 15, 3]);
  expect(labels.shape).toEqual([1, 20, 18, 15]);
  // the blended logits are the intensity itself (a linear predictor is reproduced exactly)
  const diff = tf.tidy(() => tf.max(tf.abs(logits.slice([0, 0, 0, 0, 0], [1, 20, 18, 15, 1]).sub(image))).dataSync()[0]);
  expect(diff).toBeLessThan(1e-5);
  tf.dispose([image, logits, probabilities, labels]);
});
