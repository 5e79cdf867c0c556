/**
 * Worker threads that run `gemm(task, scratch)` on the shared wasm memory, driven synchronously from the caller.
 *
 * A job is a row of `count` task records in wasm memory (one box of C each). Every thread, the caller
 * included, claims the next unclaimed task with Atomics.add on NEXT until none are left: on this shared
 * machine a core can be busy elsewhere, and claiming lets the other threads take up its share.
 *
 * The handshake lives in a small SharedArrayBuffer of int32 slots:
 *   PENDING, TASKS, COUNT, NEXT   workers not yet finished with the job (the caller sleeps on it); the job
 *   per worker w:  SEQ            bumped by the caller to start worker w on the job; the worker sleeps on it
 *                  SCRATCH        the worker's scratch record
 *                  FAILED, READY  set by the worker: a task threw / it sits in its loop and can take work
 * Caller: TASKS, COUNT, NEXT = 0, PENDING = n; for each worker SEQ += 1, notify(SEQ); claim tasks; then
 * wait(PENDING) until it reads 0. Worker: wait(SEQ, last seen) returns once SEQ moved (at once if it already
 * had); claim tasks; PENDING -= 1 and, as the last one, notify(PENDING). All slots go through Atomics, which
 * also orders the plain wasm-memory writes around them. The caller starts no job before PENDING is 0.
 *
 * Work only goes to READY workers: blocking on a worker that is still starting (or failed to start) could
 * wait forever, since its 'error' event needs the event loop the caller is blocking. Until the workers are
 * up, the caller runs every task itself.
 *
 * The worker is a short ES module in a data: URL: no worker file to locate, so it runs the same from
 * TypeScript sources (vitest) and from dist/, and as a module whatever the parent's module type.
 * Workers are unref'd: they never keep the process alive.
 */
import { Worker } from 'node:worker_threads';

const [PENDING, TASKS, COUNT, NEXT, RUN_BY_WORKERS] = [0, 1, 2, 3, 4];
const SHARED_SLOTS = 5;
const SLOTS_PER_WORKER = 4;
const slot = (worker: number, field: 'seq' | 'scratch' | 'failed' | 'ready') =>
  SHARED_SLOTS + worker * SLOTS_PER_WORKER + ['seq', 'scratch', 'failed', 'ready'].indexOf(field);

const workerSource = (w: number, taskBytes: number) => `
import { workerData, parentPort } from 'node:worker_threads';
const { module, memory, control } = workerData;
const ctrl = new Int32Array(control);
const SEQ = ${slot(w, 'seq')}, SCRATCH = ${slot(w, 'scratch')}, FAILED = ${slot(w, 'failed')};
const PENDING = ${PENDING}, TASKS = ${TASKS}, COUNT = ${COUNT}, NEXT = ${NEXT};
let gemm = null;
try { gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm; } catch {}
let seen = 0;
Atomics.store(ctrl, ${slot(w, 'ready')}, 1);
parentPort.postMessage('ready');
for (;;) {
  Atomics.wait(ctrl, SEQ, seen);
  seen = Atomics.load(ctrl, SEQ);
  const tasks = Atomics.load(ctrl, TASKS), count = Atomics.load(ctrl, COUNT), scratch = Atomics.load(ctrl, SCRATCH);
  try {
    for (let i = Atomics.add(ctrl, NEXT, 1); i < count; i = Atomics.add(ctrl, NEXT, 1)) {
      gemm(tasks + i * ${taskBytes}, scratch);
      Atomics.add(ctrl, ${RUN_BY_WORKERS}, 1);
    }
  } catch { Atomics.store(ctrl, FAILED, 1); }
  if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
}`;

export interface Job {
  /** Address of the first task record; the others follow every `taskBytes`. */
  tasks: number;
  count: number;
}

export class ThreadPool {
  private readonly workers: Worker[] = [];
  private readonly control: Int32Array;
  /** Resolves once every worker has reported ready. */
  readonly ready: Promise<void>;

  /** Starts `size` workers at once (they get ready in the background). */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, readonly size: number, readonly taskBytes: number) {
    this.control = new Int32Array(new SharedArrayBuffer(4 * (SHARED_SLOTS + size * SLOTS_PER_WORKER)));
    const started: Promise<void>[] = [];
    for (let w = 0; w < size; w++) {
      const source = `data:text/javascript,${encodeURIComponent(workerSource(w, taskBytes))}`;
      const worker = new Worker(new URL(source), { workerData: { module, memory, control: this.control.buffer } });
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

  /** Indices of the workers that can take work now. */
  readyWorkers(): number[] {
    return this.workers.map((_, w) => w).filter((w) => Atomics.load(this.control, slot(w, 'ready')) === 1);
  }

  /**
   * Runs every task of `job` on the calling thread (with scratch[0], via `runHere`) and on `workers` (from
   * readyWorkers(), worker i with scratch[i + 1]), returning when all are done. If a worker's task threw,
   * the whole job is run again here, so the result is always complete.
   */
  run(job: Job, workers: readonly number[], scratch: readonly number[], runHere: (task: number, scratch: number) => void): void {
    const c = this.control;
    Atomics.store(c, TASKS, job.tasks);
    Atomics.store(c, COUNT, job.count);
    Atomics.store(c, NEXT, 0);
    Atomics.store(c, PENDING, workers.length);
    workers.forEach((w, i) => {
      Atomics.store(c, slot(w, 'failed'), 0);
      Atomics.store(c, slot(w, 'scratch'), scratch[i + 1]!);
      Atomics.add(c, slot(w, 'seq'), 1);
      Atomics.notify(c, slot(w, 'seq'));
    });
    for (let i = Atomics.add(c, NEXT, 1); i < job.count; i = Atomics.add(c, NEXT, 1)) {
      runHere(job.tasks + i * this.taskBytes, scratch[0]!);
    }
    for (let left = Atomics.load(c, PENDING); left !== 0; left = Atomics.load(c, PENDING)) {
      Atomics.wait(c, PENDING, left);
    }
    if (workers.some((w) => Atomics.load(c, slot(w, 'failed')))) {
      this.stats.failedJobs++;
      for (let i = 0; i < job.count; i++) runHere(job.tasks + i * this.taskBytes, scratch[0]!);
    }
  }

  /** Tasks the workers have completed so far, and jobs rerun here after a worker's task threw (for tests). */
  readonly stats = { failedJobs: 0 };
  tasksRunByWorkers(): number {
    return Atomics.load(this.control, RUN_BY_WORKERS);
  }

  /** Stops the workers (tests; a process exits without this). */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}
