/**
 * Compiling GPU.js kernels once per shape signature, with every setting pinned, and running them.
 *
 * Each kernel family writes a `KernelSpec`: the kernel's source with every shape, stride and offset baked
 * in as a literal, plus its output size. The source is the cache key (it already names the op, the
 * shapes and the dtype), together with the lengths of the buffers passed in, because GPU.js compiles a
 * kernel for the sizes of the arrays or textures it first sees. A training loop meets a fixed set of
 * shapes, so the cache stops growing after the first step; an LRU bound destroys the oldest kernels if a
 * program keeps inventing shapes.
 */
import type { GPU, IKernelRunShortcut, KernelOutput, Texture } from 'gpu.js';
import { DeviceBuffer, GpuStorage } from './storage.js';

export interface KernelSpec {
  /** JavaScript source of the kernel function, `function(a, b, ...) { ... }`, translated by GPU.js. */
  source: string;
  /** GPU.js output size: [n] (thread.x) or [width, height] (thread.x, thread.y). */
  output: number[];
  /** Iterations of the longest loop in the source; loopMaxIterations is set above it. */
  loop: number;
  /** Sources of helper functions the kernel calls. */
  functions?: readonly string[];
}

/** An argument: a tensor's buffer, or a number (a Float hyper-parameter). */
export type KernelArg = DeviceBuffer | number;

/** GPU.js's default loopMaxIterations; loops longer than this are silently cut unless it is raised. */
const GPUJS_DEFAULT_LOOP_MAX = 1000;

export class KernelCache {
  private readonly kernels = new Map<string, IKernelRunShortcut>();

  constructor(
    private readonly gpu: GPU,
    /** Keep results as textures on the device (GL modes). */
    private readonly pipeline: boolean,
    private readonly limit = 512,
  ) {}

  get size(): number {
    return this.kernels.size;
  }

  /** Runs `spec` on `args` and returns its output as a buffer of `outSize` elements. */
  run(spec: KernelSpec, args: readonly KernelArg[], outSize: number): DeviceBuffer {
    const kernel = this.get(spec, args);
    const values = args.map((a) => (typeof a === 'number' ? a : a.data));
    const result = kernel(...(values as Parameters<IKernelRunShortcut>)) as KernelOutput | Texture;
    return new DeviceBuffer(this.pipeline ? (result as Texture) : flatten(result as KernelOutput, outSize), outSize);
  }

  /** Convenience: run, then wrap the whole output as one storage. */
  runToStorage(spec: KernelSpec, args: readonly KernelArg[], outSize: number): GpuStorage {
    return new GpuStorage(this.run(spec, args, outSize), 0, outSize);
  }

  private get(spec: KernelSpec, args: readonly KernelArg[]): IKernelRunShortcut {
    const key = `${spec.output.join('x')}|${args.map(argumentSignature).join(',')}|${spec.source}`;
    let kernel = this.kernels.get(key);
    if (kernel) {
      // Map iteration order is insertion order: re-inserting marks this kernel most recently used.
      this.kernels.delete(key);
      this.kernels.set(key, kernel);
      return kernel;
    }
    kernel = this.gpu.createKernel(spec.source, {
      output: spec.output,
      // Loops longer than loopMaxIterations are cut short without an error (the default is 1000).
      loopMaxIterations: Math.max(GPUJS_DEFAULT_LOOP_MAX, spec.loop + 1),
      // highp everywhere: headless-gl gave wrong values with lower precision.
      tactic: 'precision',
      precision: 'single',
      pipeline: this.pipeline,
      // Every call gets a fresh output; otherwise a pipelined kernel overwrites its previous result.
      immutable: true,
      dynamicOutput: false,
      dynamicArguments: false,
      ...(spec.functions?.length ? { functions: [...spec.functions] } : {}),
    } as Parameters<GPU['createKernel']>[1]) as IKernelRunShortcut;
    this.kernels.set(key, kernel);
    if (this.kernels.size > this.limit) {
      const [oldest, old] = this.kernels.entries().next().value as [string, IKernelRunShortcut];
      this.kernels.delete(oldest);
      old.destroy();
    }
    return kernel;
  }

  destroy(): void {
    for (const k of this.kernels.values()) k.destroy();
    this.kernels.clear();
  }
}

/**
 * What GPU.js compiles a kernel for, per argument. For arrays, the length. For textures, more: GPU.js bakes
 * an input texture's size and dimensions into the shader as constants and picks its sampling code by the
 * texture's class (a 2-D output such as matmul's gives a Float2D texture, a flat output a Float one). A
 * texture of the same length but another layout must get its own kernel: reusing one reads the wrong
 * texels, or makes GPU.js switch kernels until it gives up ("did not settle on a kernel", seen in training).
 */
function argumentSignature(a: KernelArg): string {
  if (typeof a === 'number') return 'n';
  if (a.data instanceof Float32Array) return String(a.length);
  const t = a.data as Texture & { size: number[]; dimensions: number[] };
  return `${a.length}:${t.constructor.name}:${t.size.join('x')}:${t.dimensions.join('x')}`;
}

/** A kernel's result as one flat Float32Array (2-D outputs come back as an array of rows). */
export function flatten(result: KernelOutput, size: number): Float32Array {
  if (result instanceof Float32Array) return result.length === size ? result : result.slice(0, size);
  const rows = result as unknown as ArrayLike<number>[];
  const out = new Float32Array(size);
  let k = 0;
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row instanceof Float32Array) out.set(row, k);
    else for (let j = 0; j < row.length; j++) out[k + j] = row[j]!;
    k += row.length;
  }
  return out;
}
