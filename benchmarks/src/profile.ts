/**
 * `pnpm bench --profile`: where the paper model's training step spends its time, kernel by kernel.
 *
 *   pnpm bench --profile [--mode compiled|eager] [--variant last|full] [--steps 10] [--threads N] [--top 25]
 *
 * The step is the bench's (step.ts: forward with the float64 loss, backward, AdamW).
 * --mode compiled (default, what `pnpm grok` trains with): the compiled step's tape is replayed with every
 * kernel timed (CompiledStep.profile()); "outside kernels" is then only the AdamW update and the replay loop.
 * --mode eager: the step run op by op (its phases), on the current backend, every kernel a backend call.
 * After two warm-up steps, every kernel method of the backend (the Backend interface: unary, binary, matmul,
 * fused, …) is wrapped to time each call by kernel, arguments' shapes and phase of the step; a kernel that
 * calls another is timed once, as the outer call. "Outside kernels" is the rest of a phase's wall time: the
 * autograd graph, argument checks, allocation — JavaScript around the kernels.
 */
import type { Backend } from '@grok/tensor';
import { getBackend, setThreads, startThreads } from '@grok/tensor';
import { type Variant, median, paperStep } from './step.js';

export interface ProfileOptions {
  mode: 'compiled' | 'eager';
  variant: Variant;
  steps: number;
  threads: number;
  /** Kernel rows printed (the rest are summed in one line). */
  top: number;
}

const PHASES = ['forward', 'backward', 'update'] as const;
type Phase = (typeof PHASES)[number];

/** The Backend methods that compute (reshape and read only re-view or hand out storage; optional ones are
 * wrapped where the backend has them). */
const KERNELS = [
  'fromArray', 'unary', 'binary', 'where', 'reduce', 'matmul', 'softmax', 'logSoftmax', 'permute', 'slice',
  'concat', 'cast', 'gather', 'scatterAdd', 'indexSelect', 'indexAdd', 'fused', 'crossEntropyRows',
  'attentionShortContext', 'attentionShortContextBackward',
] as const;

interface Entry {
  kernel: string;
  phase: Phase;
  ms: number;
  calls: number;
}

const shapeOf = (x: unknown) => (x && typeof x === 'object' && 'shape' in x ? `[${(x as { shape: number[] }).shape.join(',')}]` : null);

/** "matmul [3830,512]ᵀ·[3830,128]", "binary add [3830,512] [512]", "fused adamw [512,128]", … */
function describe(name: string, args: unknown[]): string {
  if (name === 'matmul') {
    const flags = (args[2] ?? {}) as { transA?: boolean; transB?: boolean };
    return `matmul ${shapeOf(args[0])}${flags.transA ? 'ᵀ' : ''}·${shapeOf(args[1])}${flags.transB ? 'ᵀ' : ''}`;
  }
  if (name === 'fused') {
    const inputs = args[1] as unknown[];
    return `fused ${(args[0] as { name: string }).name}${args[3] ? ' in place' : ''} ${shapeOf(inputs[0])}`;
  }
  const op = typeof args[0] === 'string' ? ` ${args[0]}` : '';
  const shapes = args.flatMap((a) => (Array.isArray(a) ? a.map(shapeOf) : [shapeOf(a)])).filter((s) => s !== null);
  return `${name}${op} ${shapes.join(' ')}`;
}

/** Wraps the backend's kernel methods (on this instance only); returns the undo. */
function instrument(backend: Backend, phaseNow: () => Phase, entries: Map<string, Entry>): () => void {
  const target = backend as unknown as Record<string, (...args: unknown[]) => unknown>;
  let depth = 0;
  const originals = KERNELS.filter((k) => typeof target[k] === 'function').map((k) => [k, target[k]!, Object.hasOwn(target, k)] as const);
  for (const [name, f] of originals) {
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (depth > 0) return f.apply(this, args); // inside another kernel: counted there
      depth++;
      const t0 = performance.now();
      try {
        return f.apply(this, args);
      } finally {
        const ms = performance.now() - t0;
        depth--;
        const kernel = describe(name, args);
        const key = `${phaseNow()}|${kernel}`;
        const e = entries.get(key) ?? { kernel, phase: phaseNow(), ms: 0, calls: 0 };
        e.ms += ms;
        e.calls++;
        entries.set(key, e);
      }
    };
  }
  return () => {
    for (const [name, f, own] of originals) {
      if (own) target[name] = f;
      else delete target[name]; // the prototype's method shows through again
    }
  };
}

export async function runProfile(o: ProfileOptions): Promise<void> {
  setThreads(o.threads);
  await startThreads();
  if (o.mode === 'compiled') return runCompiledProfile(o);
  const { phases, batch } = paperStep({ variant: o.variant, compiled: false });
  for (let i = 0; i < 2; i++) {
    const loss = phases.forward();
    phases.backward(loss);
    phases.update();
  }

  const entries = new Map<string, Entry>();
  let phase: Phase = 'forward';
  const undo = instrument(getBackend(), () => phase, entries);
  const wall: Record<Phase, number[]> = { forward: [], backward: [], update: [] };
  const steps: number[] = [];
  try {
    for (let s = 0; s < o.steps; s++) {
      phase = 'forward';
      const t0 = performance.now();
      const loss = phases.forward();
      const t1 = performance.now();
      phase = 'backward';
      phases.backward(loss);
      const t2 = performance.now();
      phase = 'update';
      phases.update();
      const t3 = performance.now();
      wall.forward.push(t1 - t0);
      wall.backward.push(t2 - t1);
      wall.update.push(t3 - t2);
      steps.push(t3 - t0);
    }
  } finally {
    undo();
  }
  print(o, batch, steps, wall, [...entries.values()]);
}

/** The compiled step: replays of its tape with every kernel timed, by kernel label (tape order kept apart). */
function runCompiledProfile(o: ProfileOptions): void {
  const { step, tape, phases, batch } = paperStep({ variant: o.variant, compiled: true });
  for (let i = 0; i < 3; i++) step(); // capture, then warm replays
  if (!tape || tape.mode !== 'replay') throw new Error(`bench --profile: the ${getBackend().name} backend does not replay compiled steps; use --mode eager`);
  const entries = new Map<string, Entry>();
  const replayWall: number[] = [];
  const updateWall: number[] = [];
  for (let s = 0; s < o.steps; s++) {
    const t0 = performance.now();
    const times = tape.profile()!;
    const t1 = performance.now();
    phases.update();
    updateWall.push(performance.now() - t1);
    replayWall.push(t1 - t0);
    for (const { label, ms } of times) {
      const e = entries.get(label) ?? { kernel: label, phase: 'forward' as Phase, ms: 0, calls: 0 };
      e.ms += ms;
      e.calls++;
      entries.set(label, e);
    }
  }
  const steps = replayWall.map((r, i) => r + updateWall[i]!);
  const n = o.steps;
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const inKernels = [...entries.values()].reduce((a, e) => a + e.ms, 0) / n;
  console.log(
    `${getBackend().name} backend, paper model, compiled '${o.variant}' step (${tape.kernels} kernels, ${(tape.bytes / 2 ** 20).toFixed(0)} MiB), ` +
      `batch ${batch}, ${o.threads} thread(s): ${mean(steps).toFixed(2)} ms per step (mean of ${n}; median ${median(steps).toFixed(2)}, ` +
      `min ${Math.min(...steps).toFixed(2)})\n`,
  );
  const pct = (ms: number) => `${((100 * ms) / mean(steps)).toFixed(1)}%`;
  table([
    ['part', 'ms/step', 'share'],
    ['replay: in kernels', inKernels.toFixed(2), pct(inKernels)],
    ['replay: between kernels', (mean(replayWall) - inKernels).toFixed(2), pct(mean(replayWall) - inKernels)],
    ['AdamW update (eager)', mean(updateWall).toFixed(2), pct(mean(updateWall))],
  ]);
  const byKind = new Map<string, number>();
  for (const e of entries.values()) {
    const kind = e.kernel.split(' [')[0]!; // 'matmul Aᵀ', 'small matmul', 'sum(axis 0)', …
    byKind.set(kind, (byKind.get(kind) ?? 0) + e.ms / n);
  }
  console.log('');
  table([['kernel family', 'ms/step', 'share'], ...[...byKind].sort((a, b) => b[1] - a[1]).map(([k, t]) => [k, t.toFixed(2), pct(t)])]);
  const sorted = [...entries.values()].sort((a, b) => b.ms - a.ms);
  const rows = sorted.slice(0, o.top).map((e) => [e.kernel, (e.ms / n).toFixed(2), pct(e.ms / n), String(e.calls / n)]);
  const rest = sorted.slice(o.top);
  if (rest.length) {
    const t = rest.reduce((a, e) => a + e.ms, 0) / n;
    rows.push([`(${rest.length} more)`, t.toFixed(2), pct(t), String(rest.reduce((a, e) => a + e.calls, 0) / n)]);
  }
  console.log('');
  table([['kernel (tape label)', 'ms/step', 'share', 'calls/step'], ...rows]);
}

function print(o: ProfileOptions, batch: number, steps: number[], wall: Record<Phase, number[]>, entries: Entry[]): void {
  const n = o.steps;
  const perStep = (ms: number) => ms / n;
  const meanStep = steps.reduce((a, b) => a + b, 0) / n;
  const pct = (ms: number) => `${((100 * ms) / meanStep).toFixed(1)}%`;
  const ms = (x: number) => x.toFixed(2);
  console.log(
    `${getBackend().name} backend, paper model, '${o.variant}' step, batch ${batch}, ${o.threads} thread(s): ` +
      `${ms(meanStep)} ms per step (mean of ${n}; median ${ms(median(steps))}, min ${ms(Math.min(...steps))}); ` +
      'kernel times are per step, means (the wrapping adds a little to each call)\n',
  );

  const rows: string[][] = [['phase', 'wall ms', 'in kernels', 'outside kernels', 'share']];
  for (const p of PHASES) {
    const phaseWall = wall[p].reduce((a, b) => a + b, 0) / n;
    const inKernels = perStep(entries.filter((e) => e.phase === p).reduce((a, e) => a + e.ms, 0));
    rows.push([p, ms(phaseWall), ms(inKernels), ms(phaseWall - inKernels), pct(phaseWall)]);
  }
  table(rows);

  const byKind = new Map<string, number>();
  for (const e of entries) {
    const kind = e.kernel.split(' ')[0]!;
    byKind.set(kind, (byKind.get(kind) ?? 0) + e.ms);
  }
  console.log('');
  table([['kernel family', 'ms/step', 'share'], ...[...byKind].sort((a, b) => b[1] - a[1]).map(([k, t]) => [k, ms(perStep(t)), pct(perStep(t))])]);

  const sorted = [...entries].sort((a, b) => b.ms - a.ms);
  const shown = sorted.slice(0, o.top);
  const rest = sorted.slice(o.top);
  const kernelRows = shown.map((e) => [e.kernel, e.phase, ms(perStep(e.ms)), pct(perStep(e.ms)), String(e.calls / n)]);
  if (rest.length) {
    const t = rest.reduce((a, e) => a + e.ms, 0);
    kernelRows.push([`(${rest.length} more)`, '', ms(perStep(t)), pct(perStep(t)), String(rest.reduce((a, e) => a + e.calls, 0) / n)]);
  }
  console.log('');
  table([['kernel', 'phase', 'ms/step', 'share', 'calls/step'], ...kernelRows]);
}

/** Left-aligned text columns, right-aligned numbers. */
function table(rows: string[][]): void {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const numeric = (s: string) => /^-?[\d.]+%?$/.test(s);
  for (const r of rows) console.log(r.map((c, i) => (numeric(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
