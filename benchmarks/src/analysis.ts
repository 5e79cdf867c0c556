/**
 * The analysis of a run, as `pnpm grok analyze runs/NAME` does it (@grok/grokking's analyzeRun): the full
 * findings of the final checkpoint once, then `measureCheckpoint` on every checkpoint with the final key
 * frequencies, each loaded from its safetensors file into one model whose forward over the p² pairs is
 * captured once and replayed (allPairsReplay). Target (DESIGN.md): the 400 checkpoints of a 40k-step run in
 * ≤ 2 minutes on the 2-core machine.
 *
 * The suite makes its own checkpoints, so it runs on a fresh clone: the paper model (p = 113, d_model 128,
 * 4 heads, d_mlp 512) randomly initialised with a different seed per checkpoint, saved into a temporary run
 * directory. The work does not depend on the weights' values (no branch on them that changes the cost), so
 * an untrained model times what a trained one does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  PAPER_CONFIG,
  allPairsReplay,
  analyzeCheckpoint,
  buildModel,
  emptyTimings,
  makeSplit,
  measureCheckpoint,
  type MeasureTimings,
} from '@grok/grokking';
import { loadCheckpointInto, saveCheckpoint } from '@grok/transformer';
import { getThreads, startThreads } from '@grok/tensor';

export type AnalysisRow = {
  suite: 'analysis';
  impl: 'grok';
  threads: number;
  p: number;
  /** Checkpoints measured after the first (the first also captures the forward). */
  checkpoints: number;
  /** Median seconds of one checkpoint: load + measureCheckpoint (replayed forward). */
  secondsPerCheckpoint: number;
  /** The first measured checkpoint, the capture of the forward included. */
  firstSeconds: number;
  /** analyzeCheckpoint on the final checkpoint (losses, clusters, logit fit, attention, ablations). */
  findingsSeconds: number;
  /** findings + first + 398 × per checkpoint: a 40k-step run's 400 checkpoints. */
  projected400Seconds: number;
  /** Mean ms per checkpoint of each piece (load, then MeasureTimings). */
  pieces: { load: number } & MeasureTimings;
  /** Process CPU ms per checkpoint (all threads), against the machine being shared. */
  cpuMsPerCheckpoint: number;
};

export async function runAnalysisBench({ quick = false } = {}): Promise<AnalysisRow> {
  await startThreads();
  const config = { ...PAPER_CONFIG };
  const split = makeSplit(config);
  const dir = mkdtempSync(join(tmpdir(), 'grok-bench-analysis-'));
  try {
    const count = quick ? 3 : 16; // checkpoints written: the final one and `count − 1` measured
    const files = Array.from({ length: count }, (_, i) => {
      const file = join(dir, `step-${String(100 * i).padStart(6, '0')}.safetensors`);
      saveCheckpoint(file, buildModel({ ...config, seed: i }), { step: 100 * i });
      return file;
    });
    const model = buildModel(config);
    const finalStep = 100 * (count - 1);
    loadCheckpointInto(model, files.at(-1)!);
    let t = performance.now();
    const findings = analyzeCheckpoint(model, split, finalStep, files.at(-1)!);
    const findingsSeconds = (performance.now() - t) / 1000;

    const forward = allPairsReplay(model, { neurons: true });
    const restrictTo = findings.keyFrequencies;
    const timings = emptyTimings();
    let load = 0;
    const seconds: number[] = [];
    let cpu = 0;
    for (const [i, file] of files.slice(0, -1).entries()) {
      const used = process.cpuUsage();
      t = performance.now();
      loadCheckpointInto(model, file);
      const loaded = performance.now();
      measureCheckpoint(model, split, 100 * i, { restrictTo, forward, timings: i === 0 ? undefined : timings });
      seconds.push((performance.now() - t) / 1000);
      if (i > 0) {
        load += loaded - t;
        const u = process.cpuUsage(used);
        cpu += (u.user + u.system) / 1000;
      }
    }
    const [first, ...rest] = seconds;
    const n = rest.length;
    const median = [...rest].sort((a, b) => a - b)[Math.floor(n / 2)]!;
    const mean = (ms: number) => ms / n;
    return {
      suite: 'analysis',
      impl: 'grok',
      threads: getThreads(),
      p: config.p,
      checkpoints: n,
      secondsPerCheckpoint: median,
      firstSeconds: first!,
      findingsSeconds,
      projected400Seconds: findingsSeconds + first! + 398 * median,
      pieces: {
        load: mean(load),
        forward: mean(timings.forward),
        losses: mean(timings.losses),
        neurons: mean(timings.neurons),
        restrictedAndExcluded: mean(timings.restrictedAndExcluded),
        weights: mean(timings.weights),
      },
      cpuMsPerCheckpoint: cpu / n,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
