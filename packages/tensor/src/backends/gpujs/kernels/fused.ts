/**
 * Fused elementwise kernels (FusedKernel in backend.ts) as one GPU.js kernel.
 *
 * A GPU.js kernel writes one output and cannot write into its inputs. So a kernel of S outputs over n
 * elements writes them packed as [S, n]: thread (s, i) reads element i of every input, evaluates the formula
 * and returns its s-th result. The backend then points each result at its row of the packed buffer (and,
 * in place, swaps those rows into the target arrays: NDArray.replaceStorage). The formula is evaluated S
 * times, which is cheap next to the memory traffic of one kernel per output.
 *
 * Scalars are Float arguments, not literals: a learning rate changes every step with its schedule, and a
 * literal would compile a new kernel each time. The helpers erf, tanh and sigmoid become this backend's
 * float32 versions (math.ts).
 */
import type { FusedKernel } from '../../../backend.js';
import type { KernelSpec } from '../kernel-cache.js';
import { helpersFor } from './math.js';
import { kernelSource } from './source.js';

/** The formula's helper calls renamed to ours (`Math.tanh(` is left alone). */
function withHelpers(source: string): string {
  return source.replace(/(?<![\w.])(erf|tanh|sigmoid)\(/g, '$132(');
}

/** The kernel over n elements; `offsets[k]` is where input k starts in its buffer. */
export function fusedSpec(kernel: FusedKernel, n: number, offsets: readonly number[]): KernelSpec {
  const S = kernel.outputs.length;
  const lines =
    S === 1
      ? ['const i = this.thread.x;']
      : [`const s = Math.floor(this.thread.x / ${n});`, `const i = this.thread.x - s * ${n};`];
  kernel.inputs.forEach((name, k) => lines.push(`const ${name} = in${k}[${offsets[k]} + i];`));
  if (kernel.body) lines.push(withHelpers(kernel.body));
  const outputs = kernel.outputs.map(withHelpers);
  for (let s = 1; s < S; s++) lines.push(`if (s === ${s}) { return ${outputs[s]}; }`);
  lines.push(`return ${outputs[0]};`);
  const body = lines.join('\n  ');
  const args = [...kernel.inputs.map((_, k) => `in${k}`), ...(kernel.scalars ?? [])];
  return { source: kernelSource(args, body), output: [S * n], loop: 0, functions: helpersFor(body) };
}
