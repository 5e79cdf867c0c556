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
 * bit for bit, with no tensors, graph nodes or allocations made per step. (The step runs twice while it is
 * captured: once to learn how long each buffer lives, once to record it with its memory planned.) What `fn` returned is returned
 * again, its storage refreshed, and every leaf that got a gradient during capture gets it back as `.grad`.
 *
 * The contract, checked where it can be:
 *  - `fn` depends on its inputs only through kernels: the inputs (tokens, labels) are bound at capture,
 *    and host code must not read an intermediate result (`item()` inside `fn`). A tape that saw such a read
 *    is never replayed: the step runs eagerly every time and `onFallback` is told why, once.
 *  - Parameters are updated in place between calls (as AdamW does). If a leaf's value is replaced by
 *    another tensor, the step runs eagerly from then on (and `onFallback` says so).
 *  - Only what `fn` returns (and the gradients) stays valid after a call: the memory of every other
 *    intermediate is reused within the step (a static memory plan, see the cpu backend's capture.ts).
 *  - Gradients start empty (zeroGrad between steps): a replay overwrites, it does not accumulate.
 * A backend without capture (gpujs) runs `fn` eagerly every time.
 */
import * as T from '@grok/tensor';
import type { Tensor } from './tensor.js';

export interface CompileStepOptions {
  /** Told once, with the reason, when the step has to run eagerly instead of replaying. */
  onFallback?: (reason: string) => void;
  /** Told once the step is captured: how many kernels its tape holds and the bytes its buffers take. */
  onCapture?: (tape: { kernels: number; bytes: number }) => void;
}

export interface CompiledStep<R> {
  (): R;
  /** 'replay' once a tape is captured and replayable; 'eager' when it runs `fn` every time. */
  readonly mode: 'pending' | 'replay' | 'eager';
  /** Kernels on the tape (0 before capture or in eager mode). */
  readonly kernels: number;
  /** Bytes the tape's buffers hold. */
  readonly bytes: number;
  /**
   * Runs the step once more as a replay with every kernel timed (ms, in tape order), or returns null when
   * there is no replayable tape yet. Gradients are handled as by a call.
   */
  profile(): { label: string; ms: number }[] | null;
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

/** The arrays inside what a step returned (a tensor, or arrays and objects of them). */
function arraysIn(x: unknown, out: T.NDArray[] = []): T.NDArray[] {
  if (x instanceof T.NDArray) out.push(x);
  else if (x && typeof x === 'object' && 'value' in x && (x as { value: unknown }).value instanceof T.NDArray) {
    out.push((x as { value: T.NDArray }).value);
  } else if (Array.isArray(x)) for (const y of x) arraysIn(y, out);
  else if (x && typeof x === 'object') for (const y of Object.values(x)) arraysIn(y, out);
  return out;
}

export function compileStep<R>(fn: () => R, options: CompileStepOptions = {}): CompiledStep<R> {
  let capture: Capture<R> | null = null;
  let eagerReason: string | null = null;

  const fallBack = (reason: string) => {
    eagerReason = reason;
    options.onFallback?.(reason);
  };

  /** Runs `fn` once with the backend recording; returns the tape, the result and the leaves it gave gradients. */
  const record = (backend: T.Backend, plan?: T.MemoryPlan) => {
    if (gradSink) throw new Error('compileStep: a step cannot be compiled while another is being captured');
    gradSink = new Set();
    backend.beginCapture!(plan);
    let tape: T.CapturedKernels | undefined;
    let result: R | undefined;
    let leaves: Tensor[] = [];
    try {
      result = fn();
    } finally {
      leaves = [...gradSink];
      gradSink = null;
      const keep = [...arraysIn(result), ...leaves.flatMap((l) => (l.grad ? [l.grad.value] : []))];
      tape = backend.endCapture!(keep);
    }
    return { tape, result: result as R, leaves };
  };

  // Two captures: the first learns every buffer's lifetime, the second places the buffers by the plan made
  // from it (buffers that are never alive at the same time share memory), and is the tape we keep.
  const captureStep = (backend: T.Backend): R => {
    const first = record(backend);
    if (first.tape.hostDependent) {
      // The result and the gradients live in this tape's memory: it is kept (never reused), not released.
      fallBack(`${first.tape.hostDependent}, so the step cannot be replayed`);
      return first.result;
    }
    const plan = first.tape.plan();
    first.tape.release();
    for (const leaf of first.leaves) leaf.grad = null; // the second capture computes them again
    const { tape, result, leaves } = record(backend, plan);
    if (tape.hostDependent) {
      fallBack(`${tape.hostDependent}, so the step cannot be replayed`);
      return result;
    }
    capture = { tape, result, leaves: leaves.map((leaf) => ({ leaf, grad: leaf.grad!, value: leaf.value })) };
    options.onCapture?.({ kernels: tape.kernels.length, bytes: tape.bytes });
    return result;
  };

  const replay = (c: Capture<R>, run: () => void = () => c.tape.replay()): R => {
    for (const { leaf } of c.leaves) {
      if (leaf.grad) throw new Error('compileStep: a parameter still has a gradient from the last step (call optimizer.zeroGrad() between steps)');
    }
    run();
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
    if (!capture) return captureStep(backend);
    // A parameter swapped for a new tensor (not updated in place) leaves the tape reading the old one.
    if (capture.leaves.some(({ leaf, value }) => leaf.value !== value)) {
      fallBack('a parameter was replaced by a new tensor instead of being updated in place');
      return fn();
    }
    return replay(capture);
  }) as CompiledStep<R>;

  Object.defineProperties(step, {
    mode: { get: () => (eagerReason ? 'eager' : capture ? 'replay' : 'pending') },
    kernels: { get: () => capture?.tape.kernels.length ?? 0 },
    bytes: { get: () => capture?.tape.bytes ?? 0 },
    profile: {
      value: () => {
        if (!capture || eagerReason) return null;
        let times: { label: string; ms: number }[] = [];
        replay(capture, () => (times = capture!.tape.profile()));
        return times;
      },
    },
  });
  return step;
}
