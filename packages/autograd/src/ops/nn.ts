/** Neural-network ops: softmax, log-softmax, cross-entropy and layer norm. */
import * as T from '@grok/tensor';
import type { Tensor } from '../tensor.js';
import { cast } from './shape.js';
import { gather } from './indexing.js';
import { mean, sum } from './reduce.js';
import { add, div, mul, neg, sqrt, sub } from './elementwise.js';
import { assertTensor, record } from './record.js';
import { isGradEnabled } from '../graph.js';

// y = softmax(x): dx = y ⊙ (g − Σ g⊙y)   (the sum along the softmax axis)
export function softmax(a: Tensor, axis = -1): Tensor {
  assertTensor(a, 'softmax');
  const y = T.softmax(a.value, axis);
  return record('softmax', y, [a], (g) => [T.mul(y, T.sub(g, T.sum(T.mul(g, y), axis, true)))]);
}

// y = log_softmax(x): dx = g − softmax(x) · Σ g
export function logSoftmax(a: Tensor, axis = -1): Tensor {
  assertTensor(a, 'logSoftmax');
  const y = T.logSoftmax(a.value, axis);
  return record('logSoftmax', y, [a], (g) => [T.sub(g, T.mul(T.exp(y), T.sum(g, axis, true)))]);
}

export interface CrossEntropyOptions {
  /** 'mean' (default), 'sum', or 'none' (one loss per row). */
  reduction?: 'mean' | 'sum' | 'none';
  /**
   * 'float64' (default): the log-sum-exp and the loss are computed in float64 even for float32 logits, so
   * the loss can fall far below float32's ~1e-7 floor. 'input': stay in the logits' dtype.
   *
   * On a backend without float64 (gpujs computes in float32), 'float64' moves the logits to a host cpu
   * backend (one download of [..., C]), computes the loss there in float64, and sends the float32 gradient
   * back (one upload). The loss tensor then lives on the cpu backend. This keeps the paper's float64 loss on
   * every backend; for [3830, 113] logits the round trip costs a few milliseconds per step.
   */
  precision?: 'float64' | 'input';
}

/** Whether a backend computes in float64 (one without a `dtypes` list does every dtype). */
function hasFloat64(backend: T.Backend): boolean {
  return !backend.dtypes || backend.dtypes.includes('float64');
}

let host: T.Backend | undefined;
/** Where float64 work of float32-only backends runs: a cpu backend of our own (not the current one). */
function hostBackend(): T.Backend {
  return (host ??= T.createBackend('cpu'));
}

// Moving a tensor to another backend: the gradient moves back, in the dtype it arrives in.
function toBackend(a: Tensor, backend: T.Backend): Tensor {
  const moved = backend.fromArray(a.value.data, a.shape, a.dtype);
  return record('toBackend', moved, [a], (g) => [a.value.backend.fromArray(g.data, g.shape, g.dtype)]);
}

/**
 * Cross-entropy of logits [..., C] against int32 class targets [...]: −log softmax(logits)[target].
 * The loss is float64 by default; its gradient reaches the logits in their own dtype (and backend).
 */
export function crossEntropy(logits: Tensor, targets: Tensor, options: CrossEntropyOptions = {}): Tensor {
  assertTensor(logits, 'crossEntropy', 'logits');
  assertTensor(targets, 'crossEntropy', 'targets');
  const { reduction = 'mean', precision = 'float64' } = options;
  if (logits.ndim < 1) throw new Error('crossEntropy: logits need a class axis, got a scalar');
  const batch = logits.shape.slice(0, -1);
  const classes = logits.shape.at(-1)!;
  const shapes = `targets ${targets.dtype}${T.formatShape(targets.shape)}, logits ${T.formatShape(logits.shape)}`;
  if (!T.shapesEqual(targets.shape, batch)) {
    throw new Error(`crossEntropy: ${shapes}: targets must have the shape of logits without the class axis, ${T.formatShape(batch)}`);
  }
  if (targets.dtype !== 'int32') throw new Error(`crossEntropy: ${shapes}: targets must be int32 class indices`);
  // Checked here (not left to gather) so the error speaks of classes rather than of gather's indices.
  const bad = targets.data.find((k) => k < 0 || k >= classes);
  if (bad !== undefined) {
    throw new Error(`crossEntropy: ${shapes}: target class ${bad} is out of range for ${classes} classes`);
  }
  if (!['mean', 'sum', 'none'].includes(reduction)) throw new Error(`crossEntropy: unknown reduction '${reduction}'`);
  let x = logits;
  let t = targets;
  if (precision === 'float64') {
    if (!hasFloat64(logits.value.backend)) {
      x = toBackend(x, hostBackend());
      t = toBackend(t, hostBackend());
    }
    const losses = crossEntropyRows(x, t); // [...] float64
    if (reduction === 'none') return losses;
    return reduction === 'sum' ? sum(losses) : mean(losses);
  }
  const logp = logSoftmax(x, -1); // [..., C]
  const picked = gather(logp, -1, t.unsqueeze(-1)).squeeze(-1); // [...]
  const losses = neg(picked);
  if (reduction === 'none') return losses;
  return reduction === 'sum' ? sum(losses) : mean(losses);
}

// loss[r] = −log softmax(x[r])[t_r] in float64; its derivative, softmax(x[r]) − one-hot(t_r), comes from the
// same pass over the row: dx[r, :] = g[r] · (softmax − one-hot), in the logits' dtype.
function crossEntropyRows(logits: Tensor, targets: Tensor): Tensor {
  const classes = logits.shape.at(-1)!;
  const batch = targets.shape;
  const rows = T.reshape(logits.value, [-1, classes]);
  const { losses, dloss } = T.crossEntropyRows(rows, T.reshape(targets.value, [-1]), { withDerivative: isGradEnabled() && logits.requiresGrad });
  return record('crossEntropy', T.reshape(losses, batch), [logits], (g) => {
    const perRow = T.reshape(g.dtype === logits.dtype ? g : T.cast(g, logits.dtype), [...batch, 1]); // [..., 1]
    return [T.mul(T.reshape(dloss!, logits.shape), perRow)];
  });
}

/**
 * Layer normalisation over the last axis: (x − mean) / sqrt(var + eps) · weight + bias, with the biased
 * variance, as torch.nn.functional.layer_norm. weight and bias are optional [d] tensors.
 */
export function layerNorm(x: Tensor, weight: Tensor | null, bias: Tensor | null, eps = 1e-5): Tensor {
  assertTensor(x, 'layerNorm');
  const d = x.shape.at(-1)!;
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && !(p.ndim === 1 && p.shape[0] === d)) {
      throw new Error(`layerNorm: ${name} ${T.formatShape(p.shape)} must be [${d}] for input ${T.formatShape(x.shape)}`);
    }
  }
  const centred = sub(x, mean(x, -1, true));
  const variance = mean(mul(centred, centred), -1, true);
  let y = div(centred, sqrt(add(variance, eps)));
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}
