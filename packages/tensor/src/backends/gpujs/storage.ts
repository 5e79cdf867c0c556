/**
 * What a gpujs tensor's `storage` is, and how device memory is given back.
 *
 * A `DeviceBuffer` is one flat float32 buffer: a Float32Array in the modes without device memory (webasm,
 * cpu) or a GPU.js Texture in the GL modes, where results stay on the GPU between kernels. A `GpuStorage`
 * is a window into a buffer at an element offset; several storages can share one buffer (the fused AdamW
 * kernel writes param, m and v into one packed buffer). Kernels read `buffer[offset + i]`.
 *
 * Textures are not garbage collected by JavaScript, so each buffer counts the storages that use it and
 * deletes its texture when the last is disposed (`Backend.dispose`) or garbage collected (a
 * FinalizationRegistry watches every storage of a texture).
 */
import type { Texture } from 'gpu.js';

export type DeviceData = Float32Array | Texture;

export class DeviceBuffer {
  /** Storages using this buffer. */
  refs = 0;

  constructor(
    readonly data: DeviceData,
    /** Elements in the buffer (a texture may hold more texels than that). */
    readonly length: number,
  ) {}

  get onDevice(): boolean {
    return !(this.data instanceof Float32Array);
  }

  release(): void {
    if (--this.refs === 0 && this.onDevice) (this.data as Texture).delete();
  }
}

const collected = new FinalizationRegistry<DeviceBuffer>((buffer) => buffer.release());

export class GpuStorage {
  disposed = false;

  constructor(
    readonly buffer: DeviceBuffer,
    /** Where this tensor's elements start in the buffer. */
    readonly offset: number,
    /** How many elements this tensor has. */
    readonly size: number,
  ) {
    buffer.refs++;
    if (buffer.onDevice) collected.register(this, buffer, this);
  }

  /** Gives the memory back now (idempotent). Reading the tensor afterwards throws. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.buffer.onDevice) collected.unregister(this);
    this.buffer.release();
  }
}

/** A plain array as a one-storage buffer. */
export function hostStorage(data: Float32Array): GpuStorage {
  return new GpuStorage(new DeviceBuffer(data, data.length), 0, data.length);
}
