/**
 * Worker threads that run `gemm(task)` on the shared wasm memory, driven synchronously from the caller.
 *
 * The handshake lives in a small SharedArrayBuffer of int32 slots:
 *   PENDING              tasks handed out and not yet finished; the caller sleeps on it
 *   per worker w:  SEQ   bumped by the caller to hand worker w the task in TASK; the worker sleeps on it
 *                  TASK  the task record's address
 *                  FAILED set by the worker when its task (or its start-up) threw
 * Caller: PENDING = n; for each worker: TASK = ptr, SEQ += 1, notify(SEQ); run its own task; then
 * wait(PENDING) until it reads 0. Worker: wait(SEQ, last seen) returns once SEQ moved (at once if it already
 * had), run, then PENDING -= 1 and, as the last one, notify(PENDING). Every slot is written with Atomics,
 * which also orders the plain wasm memory writes around them. The caller never hands out new work before
 * PENDING is 0, so a worker holds at most one task.
 *
 * A worker sets READY once it sits in that loop, and work only goes to ready workers: blocking on a worker
 * that is still starting (or failed to start) could wait forever, since its 'error' event needs the event loop
 * the caller is blocking. Until the workers are up, the caller runs every task itself.
 *
 * The worker is a short ES module in a data: URL: no worker file to locate, so it runs the same from
 * TypeScript sources (vitest) and from dist/, and as a module whatever the parent's module type.
 * Workers are unref'd: they never keep the process alive.
 */
import { Worker } from 'node:worker_threads';

const PENDING = 0;
const SLOTS_PER_WORKER = 4;
const slot = (worker: number, field: 0 | 1 | 2 | 3) => 1 + worker * SLOTS_PER_WORKER + field;
const SEQ = 0;
const TASK = 1;
const FAILED = 2;
const READY = 3;

const workerSource = (index: number) => `
import { workerData, parentPort } from 'node:worker_threads';
const { module, memory, control } = workerData;
const ctrl = new Int32Array(control);
const SEQ = ${slot(index, SEQ)}, TASK = ${slot(index, TASK)}, FAILED = ${slot(index, FAILED)}, PENDING = ${PENDING};
let gemm = null;
try { gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm; } catch {}
let seen = 0;
Atomics.store(ctrl, ${slot(index, READY)}, 1);
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctrl, SEQ, seen);
  seen = Atomics.load(ctrl, SEQ);
  try { gemm(Atomics.load(ctrl, TASK)); } catch { Atomics.store(ctrl, FAILED, 1); }
  if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
}`;

export class ThreadPool {
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  /** Resolves once every worker has reported ready. */
  readonly ready: Promise<void>;

  /** Starts `size` workers at once (they get ready in the background). */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, readonly size: number) {
    this.control = new Int32Array(new SharedArrayBuffer(4 * (1 + size * SLOTS_PER_WORKER)));
    const started: Promise<void>[] = [];
    for (let w = 0; w < size; w++) {
      const workerData = { module, memory, control: this.control.buffer };
      const worker = new Worker(new URL(`data:text/javascript,${encodeURIComponent(workerSource(w))}`), { workerData });
      worker.unref();
      started.push(
        new Promise((resolve, reject) => {
          worker.once('message', () => resolve());
          worker.once('error', reject); // never READY, so never given work; startThreads() reports it
        }),
      );
      this.workers.push(worker);
    }
    this.ready = Promise.all(started).then(() => undefined);
    this.ready.catch(() => {}); // a failed start is only an error for whoever awaits `ready`
  }

  /** Indices of the workers that can take a task now. */
  readyWorkers(): number[] {
    return this.workers.map((_, w) => w).filter((w) => Atomics.load(this.control, slot(w, READY)) === 1);
  }

  /**
   * Runs tasks[0] on the calling thread via `runHere` and one task on each of `workers` (from readyWorkers),
   * returning when all are done. A task a worker could not run is run here instead, so the result is always
   * complete. Tasks beyond the workers given also run here.
   */
  run(tasks: readonly number[], workers: readonly number[], runHere: (task: number) => void): void {
    const c = this.control;
    const remote = tasks.slice(1, 1 + workers.length);
    Atomics.store(c, PENDING, remote.length);
    remote.forEach((task, i) => {
      const w = workers[i]!;
      Atomics.store(c, slot(w, FAILED), 0);
      Atomics.store(c, slot(w, TASK), task);
      Atomics.add(c, slot(w, SEQ), 1);
      Atomics.notify(c, slot(w, SEQ));
    });
    for (const task of [tasks[0]!, ...tasks.slice(1 + remote.length)]) runHere(task);
    for (let left = Atomics.load(c, PENDING); left !== 0; left = Atomics.load(c, PENDING)) {
      Atomics.wait(c, PENDING, left);
    }
    remote.forEach((task, i) => {
      if (Atomics.load(c, slot(workers[i]!, FAILED))) runHere(task);
    });
  }

  /** Stops the workers (tests; a process exits without this). */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}
