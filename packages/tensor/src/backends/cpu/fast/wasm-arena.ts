/**
 * A bump allocator over one shared, growable WebAssembly.Memory. Each kernel call resets it and carves out
 * what it needs (inputs, output, scratch), so no memory is allocated per call once the high-water mark is
 * reached. Views are re-made after a grow (a grown shared memory hands out a new, longer buffer; views of
 * the old one stay valid, since shared memory never moves).
 *
 * Below the scratch space lies a persistent region that `reserve` extends: the buffers of captured kernel
 * tapes (capture.ts), which keep their addresses for as long as the process runs.
 */
const PAGE = 65536;

/** The limits of a wasm memory, which a module importing it declares (and must match). */
export interface MemoryPages {
  /** In 64 KiB pages. */
  initial: number;
  maximum: number;
  /**
   * Whether the memory is shared (default true): worker threads can then compute in it. A browser page that
   * is not cross-origin isolated has no SharedArrayBuffer, so there the memory is unshared (see fast-matmul.ts).
   */
  shared?: boolean;
}
const ALIGN = 64; // a cache line: packed panels and tiles never straddle one needlessly

export class WasmArena {
  private top = 0;
  /** End of the persistent region: scratch starts here. */
  private base = ALIGN; // address 0 stays unused so a zero pointer is always a bug
  /** Every buffer object this memory has handed out (a grow makes a new one): tells our views from others. */
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private f32View: Float32Array;
  private i32View: Int32Array;

  constructor(readonly memory: WebAssembly.Memory, readonly maxPages: number) {
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.buffers.add(memory.buffer);
  }

  /** Forgets every scratch allocation (the persistent region stays). */
  reset(): void {
    this.top = this.base;
  }

  /** Where scratch allocations start: the end of the persistent region. */
  get scratchBase(): number {
    return this.base;
  }

  /**
   * Byte address of `bytes` bytes of persistent memory (64-byte aligned, zeroed on first use of the pages),
   * or null when the memory's maximum is reached. Never freed.
   */
  reserve(bytes: number): number | null {
    const at = this.base;
    const end = at + Math.ceil(bytes / ALIGN) * ALIGN;
    if (end > this.maxPages * PAGE) return null;
    this.base = this.top = end;
    this.commit();
    return at;
  }

  /** Shrinks the persistent region back to end at `at` (the caller guarantees nothing above is in use). */
  release(at: number): void {
    if (at >= ALIGN && at < this.base) this.base = this.top = at;
  }

  /** The byte address of a typed array that views this memory, or null for any other array. */
  addressOf(view: ArrayBufferView): number | null {
    return this.buffers.has(view.buffer) ? view.byteOffset : null;
  }

  /** Byte address of `bytes` fresh bytes, 64-byte aligned. Call `commit()` before touching them. */
  alloc(bytes: number): number {
    const at = this.top;
    this.top += Math.ceil(bytes / ALIGN) * ALIGN;
    return at;
  }

  /** Whether everything allocated since `reset()` fits under the memory's maximum. */
  fits(): boolean {
    return this.top <= this.maxPages * PAGE;
  }

  /** Grows the memory to hold `top` bytes (default: everything allocated), at least doubling, to grow rarely. */
  commit(top = this.top): void {
    const have = this.memory.buffer.byteLength / PAGE;
    const need = Math.ceil(top / PAGE);
    if (need > have) this.memory.grow(Math.min(this.maxPages, Math.max(need, 2 * have)) - have);
    if (this.f32View.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.f32View = new Float32Array(this.memory.buffer);
      this.i32View = new Int32Array(this.memory.buffer);
      this.buffers.add(this.memory.buffer);
    }
  }

  get f32(): Float32Array {
    return this.f32View;
  }

  get i32(): Int32Array {
    return this.i32View;
  }
}
