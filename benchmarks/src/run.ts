/**
 * `pnpm bench`: runs the suites, prints one table and writes benchmarks/results/latest.json.
 *
 *   pnpm bench                       everything (a few minutes)
 *   pnpm bench --quick               checks that everything still runs (tiny counts; the numbers mean little)
 *   pnpm bench --only step,peers     some suites: matmul, step, cli, memory, analysis, peers (torch, tfjs, gpujs), browser (the lab)
 *   pnpm bench --profile             where one training step's time goes, per kernel (profile.ts; --mode eager)
 *
 * Ratios are the peer's time over ours for the same measurement (same shape or variant, same threads,
 * same batch): above 1, we are faster.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { enableRelaxedSimd, fastMatmulUsesRelaxedSimd, setThreads, startThreads } from '@grok/tensor';
import { runAnalysisBench } from './analysis.js';
import { runBrowserBench } from './browser.js';
import { runMatmulBench } from './matmul.js';
import { type Row, type TfjsInfo, type TorchInfo, runCli, runGpujs, runMemory, runTfjs, runTorch } from './peers.js';
import { runProfile } from './profile.js';
import { paperStep, runStepBench, timeSteps } from './step.js';

enableRelaxedSimd(); // the matmul's FMA, as `pnpm grok` has it (GROK_RELAXED_SIMD=0: the plain kernel)

const SUITES = ['matmul', 'step', 'cli', 'memory', 'analysis', 'peers', 'browser'] as const;
type Suite = (typeof SUITES)[number];

function parseArgs(argv: readonly string[]): { quick: boolean; only: Set<Suite> } {
  const quick = argv.includes('--quick');
  const only = new Set<Suite>(SUITES);
  const i = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i >= 0) {
    const value = argv[i]!.includes('=') ? argv[i]!.slice('--only='.length) : argv[i + 1];
    const names = (value ?? '').split(',').filter(Boolean);
    const bad = names.filter((n) => !(SUITES as readonly string[]).includes(n));
    if (names.length === 0 || bad.length) {
      console.error(`bench: --only takes a comma-separated list of ${SUITES.join(', ')}; got '${value ?? ''}'`);
      process.exit(2);
    }
    only.clear();
    for (const n of names) only.add(n as Suite);
  }
  return { quick, only };
}

/** `--name value` or `--name=value`. */
function option(argv: readonly string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return undefined;
  return argv[i]!.includes('=') ? argv[i]!.slice(name.length + 3) : argv[i + 1];
}

if (process.argv.includes('--profile')) {
  const argv = process.argv.slice(2);
  const variant = option(argv, 'variant') ?? 'last';
  const mode = option(argv, 'mode') ?? 'compiled';
  if (mode !== 'compiled' && mode !== 'eager') {
    console.error(`bench --profile: --mode is compiled or eager, got '${mode}'`);
    process.exit(2);
  }
  if (variant !== 'last' && variant !== 'full') {
    console.error(`bench --profile: --variant is last or full, got '${variant}'`);
    process.exit(2);
  }
  const count = (name: string, fallback: number) => {
    const v = Number(option(argv, name) ?? fallback);
    if (!(Number.isInteger(v) && v >= 1)) {
      console.error(`bench --profile: --${name} must be a whole number ≥ 1`);
      process.exit(2);
    }
    return v;
  };
  await runProfile({ mode, variant, steps: count('steps', 10), threads: count('threads', availableParallelism()), top: count('top', 25) });
  process.exit(0); // the matmul thread pool must not keep the process alive
}

const { quick, only } = parseArgs(process.argv.slice(2));
const cores = availableParallelism();
const threadCounts = [...new Set([1, cores])];
const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(0)} s`;
const progress = (what: string) => process.stderr.write(`[${elapsed()}] ${what} (load ${loadavg()[0]!.toFixed(1)})\n`);
/** Tags rows with the 1-minute load average when their suite ended (the machine may be shared). */
const withLoad = <R extends object>(rs: readonly R[]): (R & { load1: number })[] => rs.map((r) => ({ ...r, load1: loadavg()[0]! }));

const machine: Record<string, unknown> = {
  cores,
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  relaxedSimd: fastMatmulUsesRelaxedSimd(),
  loadAverageAtStart: loadavg()[0],
};

const rows: Row[] = [];
let torchInfo: TorchInfo | undefined;
let tfjsInfo: TfjsInfo | undefined;

if (only.has('matmul')) {
  progress('matmul: reference and fast path at the model shapes');
  rows.push(...withLoad(await runMatmulBench({ quick })));
}
if (only.has('step')) {
  progress(`step: the paper model's training step, last and full, at ${threadCounts.join(' and ')} thread(s)`);
  rows.push(...withLoad(await runStepBench({ quick })));
}
if (only.has('cli')) {
  progress(`cli: the pnpm grok training loop, ${quick ? 20 : 300} steps (child process)`);
  rows.push(...withLoad([runCli({ quick, threads: cores })]));
}
if (only.has('memory')) {
  progress(`memory: peak RSS of a ${quick ? 5 : 200}-step training run (child process)`);
  rows.push(...withLoad([runMemory({ quick, threads: cores })]));
}
if (only.has('analysis')) {
  progress(`analysis: measureCheckpoint on ${quick ? 2 : 15} p = 113 checkpoints and the final one's findings`);
  rows.push(...withLoad([await runAnalysisBench({ quick })]));
}
if (only.has('peers')) {
  progress(`peers: PyTorch (${quick ? '1 thread, 1 step' : `${threadCounts.join(' and ')} thread(s)`})`);
  const torch = runTorch(threadCounts, { quick });
  torchInfo = torch.info;
  rows.push(...withLoad(torch.rows));
  progress('peers: TensorFlow.js, wasm backend (child process)');
  const tfjs = runTfjs({ quick });
  tfjsInfo = tfjs.info;
  rows.push(...withLoad(tfjs.rows));
  progress('peers: GPU.js modes through our gpujs backend (one child process per mode)');
  const gpujsRows = withLoad(runGpujs({ quick }));
  rows.push(...gpujsRows);
  // Ours at the same small batch as the gpujs steps, on the cpu backend at 1 thread, for their ratio.
  for (const batch of new Set(gpujsRows.flatMap((r) => (r.suite === 'step' && typeof r['batch'] === 'number' ? [r['batch']] : [])))) {
    setThreads(1);
    await startThreads();
    const steps = quick ? 1 : 10;
    const { step } = paperStep({ variant: 'last', batch });
    rows.push({ suite: 'step', impl: 'grok', threads: 1, variant: 'last', ...timeSteps(step, 1, steps), steps, batch, load1: loadavg()[0]! });
    setThreads(cores);
  }
  // Peers' matmul at the shapes ours measured: ours again for any shape the matmul suite did not run.
  if (!only.has('matmul')) rows.push(...withLoad(await runMatmulBench({ quick, shapes: peerShapes(rows) })));
}
if (only.has('browser')) {
  progress(`browser: the lab's training step in headless Chromium (wasm at 1 and 2 threads, webgl2 on SwiftShader)`);
  rows.push(...withLoad(await runBrowserBench({ quick })));
}
if (torchInfo?.available === false) machine['torch'] = { missing: torchInfo.reason };
else if (torchInfo) {
  machine['torch'] = { version: torchInfo.version, blas: torchInfo.blas };
  machine['blas'] = torchInfo.blas ? `${torchInfo.blas.name} (${torchInfo.blas['libblas.so.3'] ?? '?'})` : 'unknown';
}
if (tfjsInfo) machine['tfjs'] = tfjsInfo;

/** Shapes ("MxK·KxN") of peer matmul rows. */
function peerShapes(all: readonly Row[]): string[] {
  return [...new Set(all.filter((r) => r.suite === 'matmul' && r.impl !== 'grok' && r.shape).map((r) => r.shape!))];
}

// ---------------------------------------------------------------------------------------------------------
// Ratios: peer time / our time, same suite, shape or variant, threads and batch.

const isOurs = (r: Row) => r.impl === 'grok';
const key = (r: Row) => `${r.suite}|${r.shape ?? ''}|${r.variant ?? ''}|${r.threads}|${r['batch'] ?? ''}|${r['gradients'] ?? ''}`;
const ours = new Map<string, Row>();
// The eager step row is for comparison with our compiled step; peers are compared with the compiled one.
for (const r of rows) if (isOurs(r) && r.missing === undefined && r['mode'] !== 'eager') ours.set(key({ ...r, gradients: undefined }), r);
for (const r of rows) {
  if (isOurs(r) || r.impl === 'grok-reference' || r.missing !== undefined) continue;
  const o = ours.get(key({ ...r, gradients: undefined }));
  if (!o) continue;
  if (r.suite === 'matmul' && r.gflops && o.gflops) r.ratio = o.gflops / r.gflops;
  if (r.suite === 'step' && r.msMedian && o.msMedian) r.ratio = r.msMedian / o.msMedian;
}
// Each of our steps against PyTorch at its best thread count on the same variant and batch (PyTorch is often
// fastest at 1 thread here, so a same-threads ratio alone would flatter us at 2).
for (const r of rows) {
  if (!isOurs(r) || r.suite !== 'step' || !r.msMedian) continue;
  const torch = rows.filter((t) => t.impl === 'torch' && t.suite === 'step' && t.variant === r.variant && t['batch'] === r['batch'] && t.msMedian);
  if (torch.length === 0) continue;
  const best = torch.reduce((a, b) => (b.msMedian! < a.msMedian! ? b : a));
  r['vsTorchBest'] = best.msMedian! / r.msMedian;
  r['torchBestThreads'] = best.threads;
}
// The reference matmul loop against the fast path, as a ratio too (reference time / fast time at 1 thread).
for (const r of rows) {
  if (r.impl !== 'grok-reference' || !r.gflops) continue;
  const o = ours.get(key(r));
  if (o?.gflops) r.ratio = o.gflops / r.gflops;
}

// ---------------------------------------------------------------------------------------------------------
// The table

const fmt = (x: unknown, digits: number) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '');
function describe(r: Row): string {
  if (r.suite === 'matmul') return r.shape ?? '';
  if (r.suite === 'step') {
    const parts = [r.variant ?? ''];
    if (r['mode'] === 'eager') parts.push('eager, op by op');
    if (r['batch'] !== undefined && r['batch'] !== 3830) parts.push(`batch ${String(r['batch'])}`);
    if (r['gradients'] === 'builtin') parts.push("tfjs's own gradients");
    if (r['lossPrecision'] === 'input') parts.push('float32 loss');
    return parts.join(', ');
  }
  if (r.suite === 'cli') return 'the pnpm grok training loop';
  if (r.suite === 'analysis') return `pnpm grok analyze, p = ${String(r['p'])}`;
  if (r.suite === 'browser') return `the lab's step, p = ${String(r['p'])}${r.impl === 'lab-webgl2' ? ' (SwiftShader: CPU, not a GPU)' : ''}`;
  return `${String(r['steps'] ?? '')}-step training run, peak RSS`;
}
function value(r: Row): string {
  if (r.missing !== undefined) return 'missing';
  if (r.suite === 'matmul') return `${fmt(r.gflops, 1)} GFLOP/s`;
  if (r.suite === 'step') return `${fmt(r.msMedian, 1)} ms`;
  if (r.suite === 'cli' || r.suite === 'browser') return `${fmt(r['stepsPerSecond'], 1)} steps/s`;
  if (r.suite === 'analysis') return `${fmt(r['secondsPerCheckpoint'], 3)} s/ckpt`;
  return `${fmt(r['maxRssMB'], 0)} MB`;
}
function note(r: Row): string {
  if (r.missing !== undefined) return r.missing;
  if (r.suite === 'matmul' && typeof r['copyShare'] === 'number') {
    return `copies + output allocation ${fmt(100 * r['copyShare'], 0)}%; all in wasm memory ${fmt(r['residentGflops'], 1)} GFLOP/s`;
  }
  if (r.suite === 'matmul' && r['display']) return String(r['display']);
  if (r.suite === 'step') return `min ${fmt(r['msMin'], 1)} ms, ${String(r['steps'] ?? '')} steps, load ${fmt(r['load1'], 1)}${r['display'] ? `, ${String(r['display'])}` : ''}`;
  if (r.suite === 'memory') return `target < ${String(r['targetMB'])} MB; ${fmt(r['seconds'], 0)} s`;
  if (r.suite === 'analysis') {
    const pc = r['pieces'] as Record<string, number>;
    const ms = (k: string) => fmt(pc[k], 0);
    return (
      `400 ckpts ≈ ${fmt(r['projected400Seconds'], 0)} s (≤ 120); findings ${fmt(r['findingsSeconds'], 1)} s; ms: load ${ms('load')} fwd ${ms('forward')} ` +
      `loss ${ms('losses')} neur ${ms('neurons')} r/e ${ms('restrictedAndExcluded')} w ${ms('weights')}; ${fmt(r['cpuMsPerCheckpoint'], 0)} CPU; load ${fmt(r['load1'], 1)}`
    );
  }
  if (r.suite === 'browser') return `headless Chromium, ${String(r['steps'])} steps (the first 10 not timed); ${String(r['display'] ?? '')}`;
  if (r.suite === 'cli') return `${String(r['steps'])} steps in ${fmt(r['seconds'], 1)} s (evaluation every 10, checkpoints every 100); 40,000 steps ≈ ${fmt(r['etaMinutes'], 0)} min`;
  return '';
}

const blas = torchInfo?.blas;
console.log(`${String(machine['cpu'])}, ${cores} cores, Node ${process.version}, relaxed SIMD ${machine['relaxedSimd'] ? 'on' : 'off'}, load average ${fmt(machine['loadAverageAtStart'], 2)} at start${quick ? ', QUICK MODE (numbers mean little)' : ''}`);
if (torchInfo) {
  console.log(
    torchInfo.available
      ? `PyTorch ${torchInfo.version ?? '?'} (${'/usr/bin/python3'}), BLAS: ${blas ? `${blas.name} (${blas['libblas.so.3'] ?? 'libblas.so.3 not found'})` : 'unknown'}`
      : `PyTorch: missing (${torchInfo.reason})`,
  );
}
if (tfjsInfo) console.log(tfjsInfo.missing ? `TensorFlow.js: missing (${tfjsInfo.missing})` : `TensorFlow.js ${tfjsInfo.version} wasm backend, SIMD ${tfjsInfo.simd ? 'on' : 'off'}, 1 thread`);
console.log('ratio = peer time / ours at the same shape or variant, threads and batch (> 1: ours is faster);');
console.log("vs torch best = PyTorch's time at its fastest thread count / ours, same variant and batch\n");

// Display order: by suite, then by measurement (shape, or variant and batch) as first met, then threads, ours first.
const SUITE_ORDER = ['matmul', 'step', 'cli', 'memory', 'analysis', 'browser'];
const IMPL_ORDER = (impl: string) => ['grok', 'grok-reference', 'torch', 'tfjs-wasm'].indexOf(impl) + 1 || 9;
const what = (r: Row) => `${r.shape ?? ''}|${r.variant ?? ''}|${r['batch'] ?? ''}`;
const firstSeen = new Map<string, number>();
for (const r of rows) if (!firstSeen.has(what(r))) firstSeen.set(what(r), firstSeen.size);
const shown = rows
  .map((r, i) => ({ r, i }))
  .sort((a, b) =>
    SUITE_ORDER.indexOf(a.r.suite) - SUITE_ORDER.indexOf(b.r.suite) ||
    firstSeen.get(what(a.r))! - firstSeen.get(what(b.r))! ||
    a.r.threads - b.r.threads ||
    IMPL_ORDER(a.r.impl) - IMPL_ORDER(b.r.impl) ||
    a.i - b.i,
  )
  .map(({ r }) => r);
const clip = (s: string, n = 140) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

const header = ['suite', 'impl', 'thr', 'shape / variant', 'result', 'ratio', 'vs torch best', 'notes'];
const vsBest = (r: Row) => (typeof r['vsTorchBest'] === 'number' ? `${fmt(r['vsTorchBest'], 2)}× (${String(r['torchBestThreads'])} thr)` : '');
const table = shown.map((r) => [r.suite, r.impl, String(r.threads), describe(r), value(r), r.ratio ? `${fmt(r.ratio, 2)}×` : '', vsBest(r), clip(note(r))]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((t) => (i === 7 ? 0 : t[i]!.length))));
const line = (cells: string[]) =>
  cells.map((c, i) => (i === 2 || i === 4 || i === 5 || i === 6 ? c.padStart(widths[i]!) : i === 7 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
console.log(line(header));
let previous = '';
for (const [i, t] of table.entries()) {
  if (shown[i]!.suite !== previous && previous !== '') console.log('');
  previous = shown[i]!.suite;
  console.log(line(t));
}

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const seconds = (performance.now() - started) / 1000;
writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify({ date: new Date().toISOString(), quick, suites: [...only], seconds, machine, rows }, null, 2)}\n`);
console.log(`\nwrote ${resultsDir}latest.json (${seconds.toFixed(0)} s)`);
process.exit(0); // the matmul thread pool must not keep the process alive
