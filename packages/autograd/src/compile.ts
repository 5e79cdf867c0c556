/**
 * compileStep: trace one eager step, then replay its kernels.
 *
 *   const step = compileStep(() => {
 *     const loss = crossEntropy(model.run(tokens), labels);
 *     loss.backward();
 *     return loss;
 *   });
 *   for (...) { const loss = step(); optimizer.step(); optimizer.zeroGrad(); }
 *
 * Full-batch training repeats the same ops on the same shapes every step. The first call runs `fn` eagerly
 * while the backend records every kernel it launches, with its buffers, on a tape (like CUDA graphs, or
 * tinygrad's JIT). Later calls replay that tape: the same kernels on the same buffers, so the same numbers
 * bit for bit, with no tensors, graph nodes or allocations made per step. What `fn` returned is returned
 * again, its storage refreshed, and every leaf that got a gradient during capture gets it back as `.grad`.
 *
 * The contract, checked where it can be:
 *  - `fn` depends on its inputs only through kernels: the inputs (tokens, labels) are bound at capture,
 *    and host code must not read an intermediate result (`item()` inside `fn`). A tape that saw such a read
 *    is never replayed: the step runs eagerly every time and `onFallback` is told why, once.
 *  - Parameters are updated in place between calls (as AdamW does). If a leaf's value is replaced by
 *    another tensor, the step is captured again.
 *  - Gradients start empty (zeroGrad between steps): a replay overwrites, it does not accumulate.
 * A backend without capture (gpujs) runs `fn` eagerly every time.
 */
import * as T from '@grok/tensor';
import type { Tensor } from './tensor.js';

export interface CompileStepOptions {
  /** Told once, with the reason, when the step has to run eagerly instead of replaying. */
  onFallback?: (reason: string) => void;
}

export interface CompiledStep<R> {
  (): R;
  /** 'replay' once a tape is captured and replayable; 'eager' when it runs `fn` every time. */
  readonly mode: 'pending' | 'replay' | 'eager';
  /** Kernels on the tape (0 before capture or in eager mode). */
  readonly kernels: number;
  /** Bytes the tape's buffers hold. */
  readonly bytes: number;
}

/** The leaves whose gradient was set during the capture in progress (see Tensor.accumulateGrad). */
let gradSink: Set<Tensor> | null = null;

/** Called by Tensor.accumulateGrad: remembers which leaves a captured step gives gradients to. */
export function noteGradient(leaf: Tensor): void {
  gradSink?.add(leaf);
}

interface Capture<R> {
  tape: T.CapturedKernels;
  result: R;
  /** Each leaf with the gradient tensor the tape writes, and the value tensor the tape reads. */
  leaves: { leaf: Tensor; grad: Tensor; value: T.NDArray }[];
}

export function compileStep<R>(fn: () => R, options: CompileStepOptions = {}): CompiledStep<R> {
  let capture: Capture<R> | null = null;
  let eagerReason: string | null = null;

  const fallBack = (reason: string) => {
    eagerReason = reason;
    options.onFallback?.(reason);
  };

  const captureStep = (backend: T.Backend): R => {
    if (gradSink) throw new Error('compileStep: a step cannot be compiled while another is being captured');
    gradSink = new Set();
    backend.beginCapture!();
    let tape: T.CapturedKernels;
    let result: R;
    let leaves: Set<Tensor>;
    try {
      result = fn();
    } finally {
      tape = backend.endCapture!();
      leaves = gradSink;
      gradSink = null;
    }
    if (tape.hostDependent) {
      fallBack(`${tape.hostDependent}, so the step cannot be replayed`);
      return result;
    }
    capture = {
      tape,
      result,
      leaves: [...leaves].map((leaf) => ({ leaf, grad: leaf.grad!, value: leaf.value })),
    };
    return result;
  };

  const replay = (c: Capture<R>): R => {
    for (const { leaf } of c.leaves) {
      if (leaf.grad) throw new Error('compileStep: a parameter still has a gradient from the last step (call optimizer.zeroGrad() between steps)');
    }
    c.tape.replay();
    for (const { leaf, grad } of c.leaves) leaf.grad = grad;
    return c.result;
  };

  const step = (() => {
    if (eagerReason) return fn();
    const backend = T.getBackend();
    if (!backend.beginCapture || !backend.endCapture) {
      fallBack(`the ${backend.name} backend cannot capture kernels`);
      return fn();
    }
    // A parameter swapped for a new tensor (not updated in place) invalidates what the tape reads.
    if (capture && capture.leaves.every(({ leaf, value }) => leaf.value === value)) return replay(capture);
    capture = null;
    return captureStep(backend);
  }) as CompiledStep<R>;

  Object.defineProperties(step, {
    mode: { get: () => (eagerReason ? 'eager' : capture ? 'replay' : 'pending') },
    kernels: { get: () => capture?.tape.kernels.length ?? 0 },
    bytes: { get: () => capture?.tape.bytes ?? 0 },
  });
  return step;
}
