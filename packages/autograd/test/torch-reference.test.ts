/**
 * Values and gradients against PyTorch's own outputs (fixtures/torch_vectors.json, PyTorch 1.13, float64;
 * fixtures/make_torch_vectors.py regenerates it). The `adamw` entries are checked by the optimizer tests.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as ag from '@grok/autograd';
import { type Tensor, tensor } from '@grok/autograd';
import { expectClose } from './helpers.js';

interface Activation { x: number[]; y: number[]; dy_dx: number[] }
interface Vectors {
  cross_entropy: {
    logits: number[][]; targets: number[]; reduction: 'mean' | 'sum' | 'none';
    loss: number; grad_logits: number[][]; log_softmax: number[][];
  };
  gelu_erf: Activation; gelu_tanh: Activation; relu: Activation; tanh: Activation;
  layer_norm: {
    x: number[][]; weight: number[]; bias: number[]; eps: number; y: number[][];
    upstream_grad: number[][]; grad_x: number[][]; grad_weight: number[]; grad_bias: number[];
  };
}
const torch = JSON.parse(readFileSync(new URL('./fixtures/torch_vectors.json', import.meta.url), 'utf8')) as Vectors;

const f64 = (values: number[] | number[][], requiresGrad = false) => tensor(values, { dtype: 'float64', requiresGrad });
const flat = (values: number[] | number[][]) => (values as number[]).flat();

describe('cross-entropy and log-softmax on extreme logits', () => {
  const ce = torch.cross_entropy;
  const targets = tensor(ce.targets, { dtype: 'int32' });

  it('float64: loss, gradient and log-softmax match PyTorch to ~1e-12', () => {
    const logits = f64(ce.logits, true);
    const loss = ag.crossEntropy(logits, targets, { reduction: ce.reduction });
    expect(Number.isFinite(loss.item())).toBe(true);
    expectClose([loss.item()], [ce.loss], 1e-12);
    loss.backward();
    expectClose(logits.grad!.data, flat(ce.grad_logits), 1e-10, 1e-15);
    expectClose(ag.logSoftmax(f64(ce.logits)).data, flat(ce.log_softmax), 1e-12, 1e-12);
  });

  it("the other reductions agree with PyTorch's mean", () => {
    const n = ce.targets.length;
    const none = ag.crossEntropy(f64(ce.logits), targets, { reduction: 'none' });
    const perRow = Array.from(none.data);
    // Each row's loss is −log_softmax at its target.
    expectClose(perRow, ce.targets.map((t, i) => -ce.log_softmax[i]![t]!), 1e-12, 1e-12);
    expectClose([ag.crossEntropy(f64(ce.logits), targets, { reduction: 'sum' }).item()], [ce.loss * n], 1e-12);
  });

  it('float32 logits: finite loss (float64) close to PyTorch, float32 gradient', () => {
    const logits = tensor(ce.logits, { requiresGrad: true });
    const loss = ag.crossEntropy(logits, targets);
    expect(loss.dtype).toBe('float64');
    // Only the rounding of inputs like 0.1 to float32 separates this from the float64 reference.
    expectClose([loss.item()], [ce.loss], 1e-8);
    loss.backward();
    expect(logits.grad!.dtype).toBe('float32');
    expectClose(logits.grad!.data, flat(ce.grad_logits), 1e-6, 1e-8);
  });

  it('float32 log-softmax of the extreme logits is finite and close', () => {
    const y = ag.logSoftmax(tensor(ce.logits));
    expect(Array.from(y.data).every(Number.isFinite)).toBe(true);
    expectClose(y.data, flat(ce.log_softmax), 1e-6, 1e-5);
  });
});

describe('activations: values and derivatives', () => {
  const cases: [keyof Vectors, (x: Tensor) => Tensor][] = [
    ['gelu_erf', ag.gelu],
    ['gelu_tanh', ag.geluTanh],
    ['relu', ag.relu],
    ['tanh', ag.tanh],
  ];
  it.each(cases)('%s', (key, op) => {
    const ref = torch[key] as Activation;
    const x = f64(ref.x, true);
    const y = op(x);
    expectClose(y.data, ref.y, 1e-14, 1e-15);
    y.sum().backward(); // dy/dx elementwise, as PyTorch's y.backward(ones)
    expectClose(x.grad!.data, ref.dy_dx, 1e-14, 1e-15);
    // float32 agrees to float32 precision, values and derivatives.
    const x32 = tensor(ref.x, { requiresGrad: true });
    const y32 = op(x32);
    expectClose(y32.data, ref.y, 1e-6, 1e-7);
    y32.sum().backward();
    expectClose(x32.grad!.data, ref.dy_dx, 1e-6, 1e-7);
  });
});

describe('layer norm', () => {
  const ln = torch.layer_norm;

  it('output and gradients of x, weight and bias match PyTorch', () => {
    const x = f64(ln.x, true);
    const weight = f64(ln.weight, true);
    const bias = f64(ln.bias, true);
    const y = ag.layerNorm(x, weight, bias, ln.eps);
    expectClose(y.data, flat(ln.y), 1e-10, 1e-12);
    y.backward(f64(ln.upstream_grad));
    // Row 1 is nearly constant (variance ≈ eps), so its gradients are large (~3e3): a relative tolerance.
    expectClose(x.grad!.data, flat(ln.grad_x), 1e-9, 1e-9);
    expectClose(weight.grad!.data, ln.grad_weight, 1e-10, 1e-12);
    expectClose(bias.grad!.data, ln.grad_bias, 1e-12, 1e-12);
  });
});
