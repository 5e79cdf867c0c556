/**
 * The lab page: reads the settings (URL or form), starts a training worker (../worker/main.ts), and turns its
 * messages into the live figures, the status line and, after ?autorun=STEPS, the JSON in #lab-result.
 * Reset throws the worker away, with its memory and GPU context, and the next Start makes a new one.
 */
import type { AblationResult } from '../../analysis/types.js';
import { phaseNow } from '../phase-now.js';
import type { AnalysisRow, FromWorker, MetricRow, ToWorker } from '../protocol.js';
import { type LabRequest, type LabSettings, DEFAULT_SETTINGS, PAPER_SETTINGS, parseSettings, settingsQuery } from '../settings.js';
import { ChartBoard } from './chart-board.js';
import { acceptCheckpoints, download, readCheckpoint } from './files.js';
import { fillForm, formFields, setFormEnabled } from './form.js';
import { accuracyChart, fourierChart, lossChart, neuronChart, restrictedChart, weightsChart } from './views.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('lab-form');
const buttons = {
  start: $<HTMLButtonElement>('lab-start'),
  pause: $<HTMLButtonElement>('lab-pause'),
  resume: $<HTMLButtonElement>('lab-resume'),
  reset: $<HTMLButtonElement>('lab-reset'),
  download: $<HTMLButtonElement>('lab-download'),
  ablate: $<HTMLButtonElement>('lab-ablate'),
};
const FIGURES = ['fig-loss', 'fig-accuracy', 'fig-restricted', 'fig-weights', 'fig-fourier', 'fig-neuron'];
const board = new ChartBoard($('lab-board'), FIGURES, 1000, (e) => showError(`a figure failed to render: ${e.message}`));

/** What the page knows of the run in its worker. */
let worker: Worker | null = null;
let p = DEFAULT_SETTINGS.p;
let rows: MetricRow[] = [];
let analyses: AnalysisRow[] = [];

function showError(message: string): void {
  $('lab-error').textContent = message;
}

function log(line: string): void {
  $('lab-log').textContent += line + '\n';
}

function send(message: ToWorker, transfer: Transferable[] = []): void {
  worker?.postMessage(message, transfer);
}

function reset(): void {
  worker?.terminate();
  worker = null;
  rows = [];
  analyses = [];
  board.clear();
  for (const id of ['lab-step', 'lab-rate', 'lab-phase', 'lab-keys', 'lab-acc']) $(id).textContent = '–';
  for (const id of ['lab-backend', 'lab-source', 'lab-ablations', 'lab-log', 'lab-result', 'lab-error']) $(id).textContent = '';
  setFormEnabled(form, true);
  setRunning(false, false);
}

function setRunning(running: boolean, started: boolean): void {
  buttons.pause.disabled = !running;
  buttons.resume.disabled = running || !started;
  buttons.download.disabled = !started;
  buttons.ablate.disabled = !started;
}

/** A fresh worker training `settings` (for `steps` steps, or until paused). */
function start(settings: LabSettings, steps: number | null): void {
  reset();
  p = settings.p;
  history.replaceState(null, '', `?${settingsQuery(settings)}${steps ? `${settingsQuery(settings) ? '&' : ''}autorun=${steps}` : ''}`);
  setFormEnabled(form, false);
  worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module', name: 'grok lab training' });
  worker.onmessage = (e: MessageEvent<FromWorker>) => receive(e.data);
  worker.onerror = (e) => showError(`the training worker failed: ${e.message || 'it could not start (see the browser console)'}`);
  send({ type: 'start', settings, steps });
  setRunning(true, true);
  $('lab-backend').textContent = `backend: ${settings.backend} (starting…)`;
}

function receive(m: FromWorker): void {
  switch (m.type) {
    case 'ready':
      $('lab-backend').textContent = `backend: ${m.backend}: ${m.detail}`;
      log(`p = ${m.p}: ${m.trainPairs} training pairs, ${m.testPairs} test pairs; init ${m.fingerprint.init}, split ${m.fingerprint.split} (FNV-1a)`);
      return;
    case 'progress':
      rows.push(...m.rows);
      $('lab-step').textContent = String(m.step);
      $('lab-rate').textContent = m.stepsPerSecond > 0 ? m.stepsPerSecond.toFixed(m.stepsPerSecond < 10 ? 1 : 0) : '–';
      setRunning(m.running, true);
      if (m.rows.length) drawTraining();
      return;
    case 'analysis':
      if (m.source.kind === 'training') {
        analyses = [...analyses.filter((a) => a.step !== m.row.step), m.row];
        $('lab-source').textContent = '';
      } else {
        $('lab-source').textContent = `Showing ${m.source.name} (step ${m.row.step}): train loss ${m.row.trainLoss.toPrecision(3)}, ` +
          `test loss ${m.row.testLoss.toPrecision(3)}${m.source.note ? `; ${m.source.note}` : ''}. Resume returns to the training.`;
        setRunning(false, true);
      }
      p = m.p;
      drawAnalysis(m.row, m.source.kind === 'training');
      return;
    case 'ablations':
      $('lab-ablations').innerHTML = ablationTable(m.step, m.rows);
      return;
    case 'checkpoint':
      download(m.name, m.bytes);
      log(`downloaded ${m.name} (${m.bytes.byteLength} bytes): pnpm grok analyze --checkpoint ${m.name}`);
      return;
    case 'result':
      $('lab-result').textContent = JSON.stringify(m.result);
      return;
    case 'log':
      log(m.line);
      return;
    case 'error':
      showError(m.message);
      setRunning(false, worker !== null);
      return;
  }
}

function drawTraining(): void {
  const now = phaseNow(rows.map((r) => ({ step: r.step, trainLoss: r.trainLoss, testLoss: r.testLoss })), p);
  $('lab-phase').textContent = now.current;
  const last = rows.at(-1)!;
  $('lab-acc').textContent = `${(100 * last.testAccuracy).toFixed(1)} %`;
  board.set('fig-loss', lossChart(rows, now.bands));
  board.set('fig-accuracy', accuracyChart(rows, now.bands));
  board.set('fig-weights', weightsChart(rows, now.bands));
  if (analyses.length) board.set('fig-restricted', restrictedChart(analyses, now.bands));
}

function drawAnalysis(a: AnalysisRow, training: boolean): void {
  $('lab-keys').textContent = a.keyFrequencies.length ? a.keyFrequencies.join(', ') : 'none yet';
  if (training) {
    const bands = rows.length ? phaseNow(rows.map((r) => ({ step: r.step, trainLoss: r.trainLoss, testLoss: r.testLoss })), p).bands : [];
    board.set('fig-restricted', restrictedChart(analyses, bands));
  }
  board.set('fig-fourier', fourierChart(a));
  const neuron = neuronChart(a, p);
  if (neuron) board.set('fig-neuron', neuron);
}

const fmt = (x: number) => (Math.abs(x) >= 0.01 ? x.toFixed(3) : x.toExponential(2));

function ablationTable(step: number, results: readonly AblationResult[]): string {
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const body = results
    .map((r) => `<tr title="${escape(r.description)}"><td>${escape(r.name)}</td><td>${fmt(r.trainLossBefore)} → ${fmt(r.trainLossAfter)}</td>` +
      `<td>${fmt(r.testLossBefore)} → ${fmt(r.testLossAfter)}</td><td>${(100 * r.testAccuracyAfter).toFixed(1)} %</td></tr>`)
    .join('');
  return `<p>Ablations at step ${step} (analysis/ablations.ts; hover a row for what it does):</p>` +
    `<table id="lab-ablation-table"><tr><th>ablation</th><th>train loss</th><th>test loss</th><th>test accuracy after</th></tr>${body}</table>`;
}

/** The form's settings, or null after showing what is wrong with them. */
function settingsFromForm(): LabSettings | null {
  try {
    return parseSettings(formFields(form)).settings;
  } catch (e) {
    showError((e as Error).message);
    return null;
  }
}

buttons.start.addEventListener('click', () => {
  const settings = settingsFromForm();
  if (settings) start(settings, null);
});
buttons.pause.addEventListener('click', () => send({ type: 'pause' }));
buttons.resume.addEventListener('click', () => {
  send({ type: 'resume' });
  setRunning(true, true);
});
buttons.reset.addEventListener('click', reset);
$('lab-preset-demo').addEventListener('click', () => fillForm(form, DEFAULT_SETTINGS));
$('lab-preset-paper').addEventListener('click', () => fillForm(form, PAPER_SETTINGS));
buttons.download.addEventListener('click', () => send({ type: 'download' }));
buttons.ablate.addEventListener('click', () => {
  $('lab-ablations').textContent = 'ablating…';
  send({ type: 'ablate' });
});
acceptCheckpoints($<HTMLInputElement>('lab-file'), (file) => {
  readCheckpoint(file)
    .then((bytes) => {
      if (!worker) {
        // No training yet: a worker of its own shows the file (on the default backend).
        worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module', name: 'grok lab' });
        worker.onmessage = (e: MessageEvent<FromWorker>) => receive(e.data);
      }
      $('lab-error').textContent = '';
      $('lab-ablations').textContent = '';
      send({ type: 'open', name: file.name, bytes }, [bytes.buffer]);
    })
    .catch((e: Error) => showError(e.message));
});

// On load: the URL's settings (an error names each bad parameter), and ?autorun=STEPS starts at once.
let request: LabRequest | null = null;
try {
  request = parseSettings(new URLSearchParams(location.search));
} catch (e) {
  showError(`URL: ${(e as Error).message}`);
}
fillForm(form, request?.settings ?? DEFAULT_SETTINGS);
setRunning(false, false);
if (request?.autorun) start(request.settings, request.autorun);
