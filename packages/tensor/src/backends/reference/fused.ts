/**
 * Fused elementwise kernels on the cpu: the kernel's formula compiled into one loop.
 *
 * For { inputs: ['x', 'g'], scalars: ['a'], body: 'const t = a * x;', outputs: ['t + g', 't * g'] } we build
 *
 *   function (in0, in1, out0, out1, a, n) {
 *     for (let i = 0; i < n; i++) {
 *       const x = in0[i], g = in1[i];
 *       const t = a * x;
 *       const r0 = t + g, r1 = t * g;
 *       out0[i] = r0; out1[i] = r1;
 *     }
 *   }
 *
 * with the formula inlined (a closure called per element would be several times slower: see
 * elementwise.ts). Every result is computed before any is stored, so an output array may also be an input:
 * that is how the kernel runs in place. The arithmetic is JavaScript's, in float64, rounded once per output.
 */
import type { FusedKernel } from '../../backend.js';
import type { TypedArray } from '../../dtype.js';
import { erf, sigmoid } from './math.js';

type FusedLoop = (...args: (TypedArray | number)[]) => void;

/** The helpers a formula may call besides Math (FusedKernel lists them). */
const HELPERS = { erf, tanh: Math.tanh, sigmoid };

function compileLoop(kernel: FusedKernel): FusedLoop {
  const ins = kernel.inputs.map((_, k) => `in${k}`);
  const outs = kernel.outputs.map((_, k) => `out${k}`);
  const params = [...ins, ...outs, ...(kernel.scalars ?? []), 'n'];
  const read = kernel.inputs.map((name, k) => `${name} = in${k}[i]`).join(', ');
  const results = kernel.outputs.map((expr, k) => `r${k} = ${expr}`).join(', ');
  const write = kernel.outputs.map((_, k) => `out${k}[i] = r${k};`).join(' ');
  const source = `for (let i = 0; i < n; i++) {
    const ${read};
    ${kernel.body ?? ''}
    const ${results};
    ${write}
  }`;
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function(...Object.keys(HELPERS), `return function ${safeName(kernel.name)}(${params.join(', ')}) { ${source} };`)(
    ...Object.values(HELPERS),
  ) as FusedLoop;
}

const safeName = (name: string) => name.replace(/\W/g, '_');

/**
 * Compiled loops, cached per formula and per array types: a loop that sees one typed-array type stays
 * monomorphic (fast); one that has seen Float32Array and Float64Array would not (see elementwise.ts).
 */
const loops = new Map<string, FusedLoop>();
/** Each kernel object's formula as a cache key, computed once (kernels are usually constants). */
const formulas = new WeakMap<FusedKernel, string>();

function loopFor(kernel: FusedKernel, arrays: readonly TypedArray[]): FusedLoop {
  let formula = formulas.get(kernel);
  if (formula === undefined) {
    formula = JSON.stringify([kernel.name, kernel.inputs, kernel.scalars ?? [], kernel.body ?? '', kernel.outputs]);
    formulas.set(kernel, formula);
  }
  const key = `${formula}|${arrays.map((a) => a.constructor.name).join(',')}`;
  let loop = loops.get(key);
  if (!loop) loops.set(key, (loop = compileLoop(kernel)));
  return loop;
}

/** Runs `kernel` over the host arrays: its hand-written `hostLoop` where it has one for them, else the formula. */
export function fusedInto(kernel: FusedKernel, inputs: readonly TypedArray[], scalars: readonly number[], outputs: readonly TypedArray[]): void {
  if (kernel.hostLoop?.(inputs, scalars, outputs)) return;
  loopFor(kernel, [...inputs, ...outputs])(...inputs, ...outputs, ...scalars, inputs[0]!.length);
}
