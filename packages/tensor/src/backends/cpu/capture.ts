/**
 * Capturing a sequence of kernel calls once and replaying it: the cpu backend's side of
 * `compileStep` (@grok/autograd).
 *
 * Full-batch training runs the same kernels on the same shapes every step. While a capture is open, the
 * backend still computes every kernel as usual, but it also
 *   - places every output in one region of the shared WebAssembly memory (a static memory plan: each buffer
 *     keeps its address for the life of the tape, so nothing is allocated per step, and wasm kernels and
 *     worker threads read the buffers where they lie, with no copies in or out), and
 *   - appends each kernel, with its buffers bound, to a tape.
 * Replaying the tape reruns those kernels in order on the same buffers: the same numbers, bit for bit, as
 * running the ops again, without building tensors, graph nodes or closures.
 *
 * What a tape cannot see: host code between kernels. If it reads a buffer the tape writes (an `item()`,
 * `data` of an intermediate), a replay would not redo what that code did with the value, so the tape marks
 * itself `hostDependent` and its owner must not replay it.
 */
import type { TypedArray } from '../../dtype.js';

/** One kernel with its buffers bound. */
export type BoundKernel = () => void;

export class KernelTape {
  readonly kernels: BoundKernel[] = [];
  /** The buffers the tape writes: reading one on the host during capture makes the tape host-dependent. */
  readonly #written = new WeakSet<TypedArray>();
  /** Why the tape cannot be replayed (null when it can). */
  hostDependent: string | null = null;
  /** Bytes of wasm memory the tape's buffers occupy. */
  bytes = 0;

  record(kernel: BoundKernel, out?: TypedArray): void {
    this.kernels.push(kernel);
    if (out) this.#written.add(out);
  }

  writes(data: TypedArray): boolean {
    return this.#written.has(data);
  }

  replay(): void {
    for (const kernel of this.kernels) kernel();
  }
}
