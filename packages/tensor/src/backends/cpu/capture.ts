/**
 * Capturing a sequence of kernel calls once and replaying it: the cpu backend's side of
 * `compileStep` (@grok/autograd).
 *
 * Full-batch training runs the same kernels on the same shapes every step. While a capture is open, the
 * backend still computes every kernel as usual, but it also
 *   - places every output in the shared WebAssembly memory, so wasm kernels and worker threads read the
 *     buffers where they lie, with no copies in or out, and
 *   - appends each kernel, with its buffers bound, to a tape, noting which buffers it reads and writes.
 * Replaying the tape reruns those kernels in order on the same buffers: the same numbers, bit for bit, as
 * running the ops again, without building tensors, graph nodes or closures.
 *
 * A static memory plan. The first capture gives every buffer memory of its own and learns when each one
 * is first written and last read. `plan()` then packs them: buffers whose lifetimes do not overlap share
 * memory (first fit, in order of first use), except the ones the caller keeps (the step's results and the
 * gradients), which live for the whole tape. A second capture of the same step, given that plan, receives
 * its buffers at the planned addresses in the same order, and its tape is the one to replay.
 *
 * What a tape cannot see: host code between kernels. If it reads a buffer the tape writes (an `item()`,
 * `data` of an intermediate), a replay would not redo what that code did with the value, so the tape marks
 * itself `hostDependent` and its owner must not replay it.
 */
import type { DType, TypedArray } from '../../dtype.js';
import { allocateInWasmMemory, releaseWasmMemory, wasmView } from './fast/fast-matmul.js';

import type { BoundKernel } from '../reference/index.js';

/** Where each buffer of a step goes: byte offsets from the start of one region, in allocation order. */
export interface MemoryPlan {
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
  /** Bytes of the whole region. */
  readonly bytes: number;
}

interface Buffer {
  data: TypedArray;
  bytes: number;
  /** Index of the kernel that first uses it (the one being launched when it was allocated). */
  first: number;
  /** Index of the last kernel that reads or writes it. */
  last: number;
  keep: boolean;
}

const ALIGN = 64;
const roundUp = (n: number) => Math.ceil(n / ALIGN) * ALIGN;
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

export class KernelTape {
  readonly kernels: BoundKernel[] = [];
  /** What each kernel is ('matmul [3830,128] [128,512]'), for profiles. */
  readonly labels: string[] = [];
  /** Why the tape cannot be replayed (null when it can). */
  hostDependent: string | null = null;
  readonly #buffers: Buffer[] = [];
  readonly #byData = new Map<TypedArray, Buffer>();
  /** The planned region (placement capture), or where this tape's own reservations start. */
  readonly #region: { start: number; plan: MemoryPlan } | null;
  #start: number | null = null;

  constructor(plan?: MemoryPlan) {
    if (!plan) {
      this.#region = null;
      return;
    }
    const whole = allocateInWasmMemory('int32', plan.bytes / 4);
    if (!whole) throw new Error(`capture: the memory plan needs ${plan.bytes} bytes, more than the wasm memory can grow to`);
    this.#region = { start: whole.byteOffset, plan };
  }

  /** Bytes of wasm memory the tape's buffers occupy. */
  get bytes(): number {
    if (this.#region) return this.#region.plan.bytes;
    return this.#buffers.reduce((n, b) => n + roundUp(b.bytes), 0);
  }

  /**
   * A buffer for the kernel about to be launched: at its planned address, or fresh wasm memory; null if
   * full. A `constant` is written once, at capture, and read by every replay: it lives for the whole tape.
   */
  allocate(dtype: DType, length: number, constant = false): TypedArray | null {
    const i = this.#buffers.length;
    const bytes = Math.max(1, length) * BYTES[dtype];
    let data: TypedArray | null;
    if (this.#region) {
      const { start, plan } = this.#region;
      if (i >= plan.sizes.length || plan.sizes[i] !== bytes) {
        this.hostDependent ??= 'the step allocated differently when captured a second time';
        return null;
      }
      data = wasmView(dtype, start + plan.offsets[i]!, length);
    } else {
      data = allocateInWasmMemory(dtype, length);
      if (!data) return null;
      this.#start ??= data.byteOffset;
    }
    const first = constant ? 0 : this.kernels.length;
    const buffer: Buffer = { data, bytes, first, last: this.kernels.length, keep: constant };
    this.#buffers.push(buffer);
    this.#byData.set(data, buffer);
    return data;
  }

  record(kernel: BoundKernel, out: TypedArray | readonly TypedArray[], label: string, inputs: readonly TypedArray[]): void {
    const index = this.kernels.length;
    this.kernels.push(kernel);
    this.labels.push(label);
    for (const data of [...(Array.isArray(out) ? out : [out]), ...inputs]) {
      const buffer = this.#byData.get(data as TypedArray);
      if (buffer) buffer.last = Math.max(buffer.last, index);
    }
  }

  writes(data: TypedArray): boolean {
    return this.#byData.has(data);
  }

  /** Marks buffers that must outlive the tape's kernels (results, gradients): the plan never reuses them. */
  keep(data: readonly TypedArray[]): void {
    for (const d of data) {
      const buffer = this.#byData.get(d);
      if (buffer) buffer.keep = true;
    }
  }

  /** Packs the buffers by lifetime (first fit, in order of first use); kept buffers live to the end. */
  plan(): MemoryPlan {
    const end = this.kernels.length;
    const placed: { offset: number; size: number; first: number; last: number }[] = [];
    const offsets: number[] = [];
    let bytes = 0;
    for (const b of this.#buffers) {
      const size = roundUp(b.bytes);
      const last = b.keep ? end : b.last;
      // Address ranges already taken by buffers alive at the same time, sorted by offset.
      const busy = placed.filter((p) => p.first <= last && b.first <= p.last).sort((x, y) => x.offset - y.offset);
      let offset = 0;
      for (const p of busy) {
        if (offset + size <= p.offset) break;
        offset = Math.max(offset, p.offset + p.size);
      }
      placed.push({ offset, size, first: b.first, last });
      offsets.push(offset);
      bytes = Math.max(bytes, offset + size);
    }
    return { offsets, sizes: this.#buffers.map((b) => b.bytes), bytes: Math.max(bytes, ALIGN) };
  }

  /** Gives this tape's own wasm memory back (it must be the last thing reserved); the tape is dead after. */
  release(): void {
    const start = this.#region?.start ?? this.#start;
    if (start !== null) releaseWasmMemory(start);
    this.kernels.length = 0;
  }

  replay(): void {
    for (const kernel of this.kernels) kernel();
  }

  /** One replay with every kernel timed: milliseconds per kernel, in tape order, with its label. */
  profile(): { label: string; ms: number }[] {
    return this.kernels.map((kernel, i) => {
      const t0 = performance.now();
      kernel();
      return { label: this.labels[i]!, ms: performance.now() - t0 };
    });
  }
}
