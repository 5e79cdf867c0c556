/**
 * The peers, each run as a child process that prints one JSON line: PyTorch (benchmarks/torch_step.py under
 * Debian's /usr/bin/python3), TensorFlow.js's wasm backend (tfjs-step.js), GPU.js modes (gpujs-child.js), and
 * the memory suite's training run (memory-child.js), the cli suite's (cli-child.js). A peer that cannot run gives a row with `missing`.
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Debian's Python: the python3 first on PATH may be another one (pyenv) that cannot see python3-torch. */
export const DEBIAN_PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = fileURLToPath(new URL('../torch_step.py', import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

export interface Row {
  suite: 'matmul' | 'step' | 'memory' | 'cli' | 'analysis' | 'browser';
  impl: string;
  threads: number;
  shape?: string;
  gflops?: number;
  ms?: number;
  variant?: 'last' | 'full';
  msMedian?: number;
  /** Peer rows: the peer's time over ours at the same suite, shape/variant and threads (> 1: we are faster). */
  ratio?: number;
  /** Why a row has no measurement. */
  missing?: string;
  [extra: string]: unknown;
}

export type ChildResult = { ok: true; json: Record<string, unknown> } | { ok: false; error: string };

const firstLine = (s: string) => s.trim().split('\n').filter(Boolean).at(-1)?.slice(0, 300) ?? '';

/** Runs a command and parses the last line of its stdout as JSON. */
export function runJsonChild(command: string, args: readonly string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv }): ChildResult {
  const r: SpawnSyncReturns<string> = spawnSync(command, args, {
    encoding: 'utf8',
    timeout: options.timeoutMs,
    env: options.env ?? process.env,
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.error) return { ok: false, error: `${command}: ${r.error.message}` };
  if (r.signal) return { ok: false, error: `killed by ${r.signal}${r.signal === 'SIGTERM' ? ` (timeout ${options.timeoutMs / 1000} s)` : ''}` };
  if (r.status !== 0) return { ok: false, error: `exit ${r.status}: ${firstLine(r.stderr) || firstLine(r.stdout)}` };
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return { ok: true, json: JSON.parse(last) as Record<string, unknown> };
  } catch {
    return { ok: false, error: `unreadable output: ${last.slice(0, 200)}` };
  }
}

/** A child Node process with this process's flags (a child that trains turns relaxed SIMD on itself). */
export function runNodeChild(script: string, args: readonly string[], timeoutMs: number): ChildResult {
  return runJsonChild(process.execPath, [...process.execArgv, here(script), ...args], { timeoutMs });
}

// ---------------------------------------------------------------------------------------------------------
// PyTorch

export interface TorchInfo {
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
  version?: string;
  blas?: { name: string; loaded: string[]; 'libblas.so.3': string | null; build: string | null };
}

export interface TorchResult {
  info: TorchInfo;
  rows: Row[];
}

/** Checks `import torch` under Debian's Python. */
export function probeTorch(): TorchInfo {
  if (!existsSync(DEBIAN_PYTHON)) return { available: false, reason: `${DEBIAN_PYTHON} not found (apt-get install python3 python3-torch libopenblas0)` };
  const r = spawnSync(DEBIAN_PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    return { available: false, reason: `import torch fails under ${DEBIAN_PYTHON} (apt-get install python3-torch libopenblas0): ${firstLine(r.stderr)}` };
  }
  return { available: true, version: r.stdout.trim() };
}

/** Runs torch_step.py once per thread count (OpenBLAS and OpenMP read their thread counts at start-up). */
export function runTorch(threadCounts: readonly number[], { quick = false } = {}): TorchResult {
  const info = probeTorch();
  const rows: Row[] = [];
  const variants = quick ? ['last'] : ['last', 'full'];
  const counts = quick ? [1] : threadCounts;
  if (!info.available) {
    for (const threads of threadCounts) {
      for (const variant of ['last', 'full'] as const) rows.push({ suite: 'step', impl: 'torch', threads, variant, missing: info.reason! });
    }
    return { info, rows };
  }
  for (const threads of counts) {
    const args = [TORCH_SCRIPT, '--threads', String(threads), '--variants', variants.join(',')];
    args.push(...(quick ? ['--steps', '1', '--warmup', '1', '--matmul-reps', '0'] : ['--steps', '20', '--warmup', '3', '--matmul-reps', '5']));
    const env = { ...process.env, OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
    const r = runJsonChild(DEBIAN_PYTHON, args, { timeoutMs: 600_000, env });
    if (!r.ok) {
      for (const variant of variants) rows.push({ suite: 'step', impl: 'torch', threads, variant: variant as 'last' | 'full', missing: r.error });
      continue;
    }
    info.blas = r.json['blas'] as TorchInfo['blas'];
    for (const row of r.json['rows'] as Row[]) rows.push({ ...row, impl: 'torch' });
  }
  return { info, rows };
}

// ---------------------------------------------------------------------------------------------------------
// TensorFlow.js (wasm backend)

export interface TfjsInfo {
  version?: string;
  simd?: boolean;
  missing?: string;
}

export function runTfjs({ quick = false } = {}): { info: TfjsInfo; rows: Row[] } {
  const args = quick
    ? ['--steps', '1', '--warmup', '0', '--variants', 'last', '--builtin-steps', '0', '--matmul-reps', '1']
    : ['--steps', '10', '--warmup', '2', '--full-steps', '5', '--variants', 'last,full', '--builtin-steps', '2', '--matmul-reps', '5'];
  const r = runNodeChild('./tfjs-step.js', args, 900_000);
  if (!r.ok) {
    const missing = `tfjs-wasm: ${r.error}`;
    return {
      info: { missing },
      rows: [
        { suite: 'step', impl: 'tfjs-wasm', threads: 1, variant: 'last', missing },
        { suite: 'matmul', impl: 'tfjs-wasm', threads: 1, shape: '3830x128·128x512', missing },
      ],
    };
  }
  const rows = (r.json['rows'] as Row[]).map((row) => ({ ...row, impl: 'tfjs-wasm' }));
  return { info: { version: r.json['tfjs'] as string, simd: r.json['simd'] as boolean }, rows };
}

// ---------------------------------------------------------------------------------------------------------
// GPU.js modes through our gpujs backend

/** Modes that can run in Node: the GL modes need a browser ('webgl', 'webgl2') or the 'gl' package ('headlessgl'). */
const XVFB_RUN = '/usr/bin/xvfb-run';

export const GPUJS_NODE_MODES = ['headlessgl', 'webasm', 'cpu'] as const;

export function runGpujs({ quick = false } = {}): Row[] {
  const rows: Row[] = [];
  for (const mode of GPUJS_NODE_MODES) {
    const impl = `gpujs-${mode}`;
    const args = ['--mode', mode, ...(quick ? ['--batch', '32', '--steps', '1', '--shape', '256x128x128'] : ['--batch', '256', '--steps', '3'])];
    // headless-gl needs an X display: without one, run the child under xvfb-run (Mesa's software GL) if present.
    const xvfb = mode === 'headlessgl' && !process.env['DISPLAY'] && existsSync(XVFB_RUN);
    const timeoutMs = quick ? 60_000 : 300_000;
    const r = xvfb
      ? runJsonChild(XVFB_RUN, ['-a', process.execPath, ...process.execArgv, here('./gpujs-child.js'), ...args], { timeoutMs })
      : runNodeChild('./gpujs-child.js', args, timeoutMs);
    const display = xvfb ? { display: 'xvfb-run (software GL)' } : {};
    if (!r.ok) {
      rows.push({ suite: 'matmul', impl, threads: 1, missing: r.error }, { suite: 'step', impl, threads: 1, variant: 'last', missing: r.error });
      continue;
    }
    const mm = r.json['matmul'] as Record<string, unknown>;
    const st = r.json['step'] as Record<string, unknown>;
    rows.push({ suite: 'matmul', impl, threads: 1, ...mm, ...display });
    rows.push({ suite: 'step', impl, threads: 1, variant: 'last', ...st, ...display });
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------------------
// Memory: peak RSS of a training run

/** The real training loop (trainAsync, as `pnpm grok`) over 300 steps in a child process: steps per second. */
export function runCli({ quick = false, threads }: { quick?: boolean; threads: number }): Row {
  const steps = quick ? 20 : 300;
  const r = runNodeChild('./cli-child.js', ['--steps', String(steps)], 900_000);
  if (!r.ok) return { suite: 'cli', impl: 'grok', threads, steps, missing: r.error };
  return { suite: 'cli', impl: 'grok', threads, ...r.json };
}

export function runMemory({ quick = false, threads }: { quick?: boolean; threads: number }): Row {
  const steps = quick ? 5 : 200;
  const r = runNodeChild('./memory-child.js', ['--steps', String(steps)], 900_000);
  if (!r.ok) return { suite: 'memory', impl: 'grok', threads, steps, missing: r.error };
  return { suite: 'memory', impl: 'grok', threads, ...r.json, targetMB: 300 };
}
