/**
 * A bump allocator over one shared, growable WebAssembly.Memory. Each kernel call resets it and carves out
 * what it needs (inputs, output, scratch), so no memory is allocated per call once the high-water mark is
 * reached. Views are re-made after a grow (a grown shared memory hands out a new, longer buffer).
 */
const PAGE = 65536;
const ALIGN = 64; // a cache line: packed panels and tiles never straddle one needlessly

export class WasmArena {
  private top = 0;
  private f32View: Float32Array;
  private i32View: Int32Array;

  constructor(readonly memory: WebAssembly.Memory, readonly maxPages: number) {
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
  }

  /** Forgets every earlier allocation. Address 0 stays unused so a zero pointer is always a bug. */
  reset(): void {
    this.top = ALIGN;
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

  /** Grows the memory to hold everything allocated since `reset()` (at least doubling, to grow rarely). */
  commit(): void {
    const have = this.memory.buffer.byteLength / PAGE;
    const need = Math.ceil(this.top / PAGE);
    if (need > have) this.memory.grow(Math.min(this.maxPages, Math.max(need, 2 * have)) - have);
    if (this.f32View.buffer.byteLength !== this.memory.buffer.byteLength) {
      this.f32View = new Float32Array(this.memory.buffer);
      this.i32View = new Int32Array(this.memory.buffer);
    }
  }

  get f32(): Float32Array {
    return this.f32View;
  }

  get i32(): Int32Array {
    return this.i32View;
  }
}
