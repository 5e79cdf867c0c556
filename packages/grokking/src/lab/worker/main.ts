/**
 * The lab's training worker (a module Web Worker): owns the backend and the model, trains in slices of about
 * 100 ms, and between slices answers the page (pause, resume, download, open, ablate) and reports progress.
 * Every `analyse_every` steps it measures the model (measure.ts) and sends the page what the charts need.
 */
import type { HookedTransformer } from '@grok/transformer';
import type { Split } from '../../data.js';
import type { FromWorker, LabResult, MetricRow, ModelSource, ToWorker } from '../protocol.js';
import { type LabSettings, runConfigOf } from '../settings.js';
import { type BackendInfo, setUpBackend } from './backend.js';
import { checkpointFile, openCheckpoint } from './checkpoint-io.js';
import { ablate, analyse } from './measure.js';
import { TrainingSession } from './session.js';
import { StepRate } from './step-rate.js';

const post = (message: FromWorker, transfer: Transferable[] = []) => self.postMessage(message, { transfer });

let backend: BackendInfo | null = null;
let session: TrainingSession | null = null;
let settings: LabSettings | null = null;
/** The model the analysis views show: the training's, or a dropped file's. */
let shown: { model: HookedTransformer; split: Split; step: number; source: ModelSource } | null = null;
let running = false;
let stopAt: number | null = null;
let neuron: number | null = null;
const rate = new StepRate();

async function start(s: LabSettings, steps: number | null): Promise<void> {
  if (backend) throw new Error('this worker has trained already: the page starts a new one for a new run');
  settings = s;
  const config = runConfigOf(s);
  backend = await setUpBackend(s.backend, s.threads);
  session = new TrainingSession(config, (line) => post({ type: 'log', line }));
  shown = { model: session.learner.model, split: session.split, step: 0, source: { kind: 'training' } };
  const { split } = session;
  post({ type: 'ready', backend: backend.name, detail: backend.detail, p: config.p, trainPairs: split.train.length, testPairs: split.test.length, fingerprint: session.fingerprint });
  showAnalysis();
  stopAt = steps;
  running = true;
  void trainLoop();
}

/** Trains slice after slice while running, yielding to the message queue between slices. */
async function trainLoop(): Promise<void> {
  const s = session!;
  while (running) {
    const rows = [];
    const sliceEnd = performance.now() + 100;
    while (running && performance.now() < sliceEnd && (stopAt === null || s.step < stopAt)) {
      const t0 = performance.now();
      const row = s.advance();
      rate.add(performance.now() - t0);
      if (row) rows.push(row);
      if (s.step % settings!.analyse_every === 0 && shown?.source.kind === 'training') showAnalysis();
    }
    const finished = stopAt !== null && s.step >= stopAt;
    const last = finished ? s.currentRow() : null;
    if (last) {
      running = false;
      if (rows.at(-1)?.step !== last.step) rows.push(last);
    }
    post({ type: 'progress', step: s.step, stepsPerSecond: rate.perSecond(), rows, running });
    if (last) publishResult(last);
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
}

function showAnalysis(): void {
  if (shown?.source.kind === 'training') shown.step = session!.step;
  if (!shown) return;
  const row = analyse(shown.model, shown.split, shown.step, neuron);
  neuron = row.neuron?.index ?? null;
  post({ type: 'analysis', source: shown.source, p: shown.split.p, row });
}

/** After ?autorun: the final losses, computed as Node's evaluate computes them, and the steady step rate. */
function publishResult(last: MetricRow): void {
  showAnalysis();
  const result: LabResult = {
    step: last.step,
    train_loss: last.trainLoss,
    test_loss: last.testLoss,
    backend: backend!.name,
    steps_per_second: rate.steadyPerSecond(),
    backend_detail: backend!.detail,
    fingerprint: session!.fingerprint,
  };
  post({ type: 'result', result });
}

function handle(message: ToWorker): void {
  switch (message.type) {
    case 'start':
      void start(message.settings, message.steps).catch(report);
      return;
    case 'pause':
      running = false;
      return;
    case 'resume':
      if (!session || running) return;
      if (shown?.source.kind === 'file') shown = { model: session.learner.model, split: session.split, step: session.step, source: { kind: 'training' } };
      if (stopAt !== null && session.step >= stopAt) stopAt = null; // after an autorun: go on for good
      running = true;
      void trainLoop().catch(report);
      return;
    case 'download': {
      if (!shown || !session) throw new Error('nothing to download yet: start training first');
      const file = checkpointFile(session.learner.model, session.step, session.config);
      post({ type: 'checkpoint', ...file }, [file.bytes.buffer as ArrayBuffer]);
      return;
    }
    case 'open': {
      running = false; // the views now show the file; Resume goes back to the training
      const opened = openCheckpoint(message.name, message.bytes);
      shown = { ...opened, source: { kind: 'file', name: message.name, note: opened.note } };
      neuron = null;
      showAnalysis();
      return;
    }
    case 'ablate': {
      if (!shown) throw new Error('no model to ablate yet: start training or open a checkpoint');
      post({ type: 'ablations', step: shown.step, rows: ablate(shown.model, shown.split, shown.step) });
      return;
    }
  }
}

function report(e: unknown): void {
  running = false;
  post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
}

self.onmessage = (event: MessageEvent<ToWorker>) => {
  try {
    handle(event.data);
  } catch (e) {
    report(e);
  }
};
