/**
 * The TensorFlow.js peer (run as a child process by `pnpm bench`): the paper model's full-batch training step
 * on tfjs's wasm backend (XNNPACK, SIMD, one thread: tfjs-wasm cannot use threads in Node), and its matmul
 * GFLOP/s at one model shape. Prints one JSON line on stdout.
 *
 *   node benchmarks/dist/tfjs-step.js [--steps 10] [--warmup 2] [--variants last,full] [--full-steps 5]
 *     [--builtin-steps 3] [--matmul-reps 5]
 *
 * Same model, batch (p = 113, 3,830 seeded pairs), init stds and hyper-parameters as ours, with two
 * differences tfjs imposes: the loss is float32 (tfjs has no float64), and AdamW's decoupled decay is written
 * by hand (tf.train.adam has none) — the update is PyTorch's: p ← p·(1 − lr·λ) − lr·m̂/(√v̂ + ε).
 *
 * Two gradient flavours:
 *  - 'tuned': every matmul goes through a custom gradient that materialises the transposes (tf.transpose)
 *    and calls plain matMul; tfjs-wasm's matMul with transpose flags is far slower than without.
 *  - 'builtin': tfjs's own gradients (matMul with transposeA/transposeB), as shipped.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { makeBatch, randomSplit } from '@grok/grokking';

const P = 113;
const D = 128;
const H = 4;
const DH = 32;
const DMLP = 512;
const VOCAB = P + 1;

type Flavour = 'tuned' | 'builtin';
type Variant = 'last' | 'full';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** a·b whose gradient uses explicit transposes and plain matMul (no transpose flags). */
const mmTuned = tf.customGrad(((a: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
  save([a, b]);
  return {
    value: tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
      const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
      const g = dy as tf.Tensor2D;
      return [tf.matMul(g, tf.transpose(sb)), tf.matMul(tf.transpose(sa), g)];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

/**
 * Rows of W_E for the flat token ids. tfjs-wasm has no UnsortedSegmentSum, the kernel of gather's gradient,
 * so the gradient is written as oneHotᵀ · dy (oneHotᵀ [vocab, n] built once per batch).
 */
function embed(W_E: tf.Variable, ids: tf.Tensor1D, oneHotT: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((w: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: tf.gather(w, ids) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => [tf.matMul(oneHotT, dy as tf.Tensor2D)],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]) as (w: tf.Tensor) => tf.Tensor2D;
  return f(W_E);
}

interface Params {
  W_E: tf.Variable; W_pos: tf.Variable;
  W_Q: tf.Variable; W_K: tf.Variable; W_V: tf.Variable; W_O: tf.Variable;
  W_in: tf.Variable; b_in: tf.Variable; W_out: tf.Variable; b_out: tf.Variable; W_U: tf.Variable;
}

function initParams(): Params {
  const s = 1 / Math.sqrt(D);
  const n = (shape: number[], std: number, seed: number) => tf.variable(tf.randomNormal(shape, 0, std, 'float32', seed));
  return {
    W_E: n([VOCAB, D], s, 1),
    W_pos: n([3, D], s, 2),
    W_Q: n([H, D, DH], s, 3),
    W_K: n([H, D, DH], s, 4),
    W_V: n([H, D, DH], s, 5),
    W_O: n([H, DH, D], s, 6),
    W_in: n([D, DMLP], s, 7),
    b_in: tf.variable(tf.zeros([DMLP])),
    W_out: n([DMLP, D], s, 8),
    b_out: tf.variable(tf.zeros([D])),
    W_U: n([D, P], 1 / Math.sqrt(VOCAB), 9),
  };
}

/** Logits [B, p] at the last position. ids [B·3] int32 (a, b, = per example). */
function forward(w: Params, ids: tf.Tensor1D, oneHotT: tf.Tensor2D, variant: Variant, flavour: Flavour): tf.Tensor2D {
  const mm = flavour === 'tuned' ? mmTuned : (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D);
  const B = ids.shape[0] / 3;
  const x = tf.add(embed(w.W_E, ids, oneHotT).reshape([B, 3, D]), w.W_pos); // [B, 3, d]
  const x2 = x.reshape([B * 3, D]);
  const proj = (W: tf.Variable) => tf.transpose(W, [1, 0, 2]).reshape([D, H * DH]); // [h, d, dh] → [d, h·dh]
  const k = mm(x2, proj(w.W_K)).reshape([B, 1, 3, H, DH]); // [B, 1(q), 3(k), h, dh]
  const v = mm(x2, proj(w.W_V)).reshape([B, 1, 3, H, DH]);
  const Tq = variant === 'last' ? 1 : 3;
  const xq = variant === 'last' ? x.slice([0, 2, 0], [B, 1, D]).reshape([B, D]) : x2; // [B·Tq, d]
  const q = mm(xq, proj(w.W_Q)).reshape([B, Tq, 1, H, DH]);
  // Scores [B, Tq, 3, h] by broadcast multiply-and-sum (tiny per-example matmuls are slow in tfjs).
  let scores = tf.sum(tf.mul(q, k), -1).mul(1 / Math.sqrt(DH));
  if (variant === 'full') {
    const mask = tf.tensor(Array.from({ length: 9 }, (_, i) => (i % 3 > Math.floor(i / 3) ? -1e9 : 0)), [1, 3, 3, 1]);
    scores = tf.add(scores, mask);
  }
  const attn = tf.softmax(tf.transpose(scores, [0, 1, 3, 2])).transpose([0, 1, 3, 2]); // softmax over keys
  const z = tf.sum(tf.mul(attn.reshape([B, Tq, 3, H, 1]), v), 2).reshape([B * Tq, H * DH]); // [B·Tq, h·dh]
  let resid = tf.add(xq, mm(z, w.W_O.reshape([H * DH, D])));
  const hidden = tf.relu(tf.add(mm(resid, w.W_in), w.b_in));
  resid = tf.add(resid, tf.add(mm(hidden, w.W_out), w.b_out));
  let logits = mm(resid, w.W_U); // [B·Tq, p]
  if (variant === 'full') logits = logits.reshape([B, 3, P]).slice([0, 2, 0], [B, 1, P]).reshape([B, P]);
  return logits as tf.Tensor2D;
}

/** AdamW as PyTorch writes it (decoupled decay), one step. */
class AdamW {
  private t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();
  constructor(private readonly lr = 1e-3, private readonly b1 = 0.9, private readonly b2 = 0.98, private readonly eps = 1e-8, private readonly wd = 1) {}

  step(params: Params, grads: Record<string, tf.Tensor>): void {
    this.t++;
    const c1 = 1 - this.b1 ** this.t;
    const c2 = 1 - this.b2 ** this.t;
    tf.tidy(() => {
      for (const [name, p] of Object.entries(params) as [string, tf.Variable][]) {
        const g = grads[p.name]!;
        if (!this.m.has(name)) {
          this.m.set(name, tf.variable(tf.zerosLike(p)));
          this.v.set(name, tf.variable(tf.zerosLike(p)));
        }
        const m = this.m.get(name)!;
        const v = this.v.get(name)!;
        m.assign(tf.add(tf.mul(m, this.b1), tf.mul(g, 1 - this.b1)));
        v.assign(tf.add(tf.mul(v, this.b2), tf.mul(tf.square(g), 1 - this.b2)));
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), this.eps));
        p.assign(tf.sub(tf.mul(p, 1 - this.lr * this.wd), tf.mul(update, this.lr)));
      }
    });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const steps = Number(arg('steps', '10'));
  const warmup = Number(arg('warmup', '2'));
  const fullSteps = Number(arg('full-steps', String(steps)));
  const builtinSteps = Number(arg('builtin-steps', '3'));
  const variants = arg('variants', 'last,full').split(',') as Variant[];
  const matmulReps = Number(arg('matmul-reps', '5'));

  const wasmDir = `${dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}/`;
  setWasmPaths(wasmDir);
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend failed to initialise');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');

  const split = randomSplit(P, 0.3, 0);
  const batch = makeBatch(P, split.train);
  const n = split.train.length;
  const ids = tf.tensor1d(batch.tokens.data as Int32Array, 'int32'); // [n·3]: a, b, = per example
  const oneHotT = tf.transpose(tf.oneHot(ids, VOCAB).toFloat()) as tf.Tensor2D; // [vocab, n·3]
  const labels = tf.oneHot(tf.tensor1d(batch.labels.data as Int32Array, 'int32'), P);

  const rows: Record<string, unknown>[] = [];
  const runs: [Variant, Flavour, number, number][] = variants.map((v) => [v, 'tuned', warmup, v === 'full' ? fullSteps : steps]);
  if (builtinSteps > 0) runs.push(['last', 'builtin', 1, builtinSteps]);
  for (const [variant, flavour, nWarm, nSteps] of runs) {
    const params = initParams();
    const opt = new AdamW();
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(params, ids, oneHotT, variant, flavour);
        return tf.neg(tf.mean(tf.sum(tf.mul(labels, tf.logSoftmax(logits)), -1))) as tf.Scalar;
      });
      opt.step(params, grads);
      const loss = value.dataSync()[0]!;
      tf.dispose([value, ...Object.values(grads)]);
      return loss;
    };
    for (let i = 0; i < nWarm; i++) step();
    const times: number[] = [];
    let loss = NaN;
    for (let i = 0; i < nSteps; i++) {
      const t0 = performance.now();
      loss = step();
      times.push(performance.now() - t0);
    }
    rows.push({ suite: 'step', variant, gradients: flavour, threads: 1, batch: n, msMedian: median(times), msMin: Math.min(...times), steps: nSteps, loss });
    tf.dispose(Object.values(params));
  }

  if (matmulReps > 0) {
    const [M, K, N] = [n, D, DMLP];
    const a = tf.randomNormal([M, K]) as tf.Tensor2D;
    const b = tf.randomNormal([K, N]) as tf.Tensor2D;
    let best = Infinity;
    for (let r = 0; r <= matmulReps; r++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      c.dataSync();
      const ms = performance.now() - t0;
      if (r > 0) best = Math.min(best, ms); // the first call is a warm-up
      c.dispose();
    }
    rows.push({ suite: 'matmul', threads: 1, shape: `${M}x${K}·${K}x${N}`, gflops: (2 * M * K * N) / best / 1e6, ms: best });
  }
  console.log(JSON.stringify({ tfjs: tf.version.tfjs, backend: tf.getBackend(), simd, rows }));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e instanceof Error ? e.stack ?? e.message : String(e));
    process.exit(1);
  },
);
