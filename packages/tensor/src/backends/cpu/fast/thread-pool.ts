/**
 * Worker threads that run `gemm(task, scratch)` on the shared wasm memory, driven synchronously from the caller.
 *
 * A job is a row of `count` task records in wasm memory. Every thread, the caller included, claims the next
 * unclaimed task with Atomics.add on NEXT until none are left: on this shared machine a core can be busy
 * elsewhere, and claiming lets the other threads take up its share.
 *
 * Tasks can wait for each other and for the caller, through counters. Task i may start once, for each of its
 * two gates, COUNTER[gate] ≥ need (gate −1: no condition); when it is done, DONE[i] becomes 1 and COUNTER[bump]
 * goes up by one. The matmul uses this so that the caller copies A and B in while the workers already compute
 * (a task waits only for the part of the input it reads), GEMM tasks wait for the one PACK_B task that packs the
 * shared B, REDUCE tasks wait for every GEMM task of a K split, and the caller copies each finished task's part
 * of C out while the other tasks still run. Tasks are claimed in order, and a task only waits on tasks before it
 * or on the caller's copies, which the caller finishes before it claims anything: no cycle, so no deadlock.
 *
 * The handshake lives in a SharedArrayBuffer of int32 slots; what different threads write sits on different
 * 64-byte cache lines, so that a store by one core does not evict a line another core is polling:
 *   NEXT                   the next unclaimed task
 *   PENDING                workers not yet finished with the job (the caller waits for 0 before the next job)
 *   TASKS, COUNT, RUN_BY_WORKERS   the job; tasks completed by workers (for tests)
 *   COUNTER[0..3]          one line each
 *   per worker: SEQ, SCRATCH, FAILED, READY   bumped by the caller to start worker w / its scratch record /
 *                          set by the worker: a task threw / it sits in its loop and can take work
 *   per task: GATE0, NEED0, GATE1, NEED1, BUMP, DONE
 * Waiting is spin-then-sleep, as in pthreadpool: whoever waits (a worker for its next job or a gate, the
 * caller for a worker's task) polls the slot for a while (SPIN_MS) before it sleeps in Atomics.wait.
 * Measured in this VM: a sleeping worker takes 33 µs (median) to wake after 0.05 ms asleep, 55 µs after 5 ms,
 * 112 µs after 20 ms; a polling one under 1 µs. So back-to-back jobs find the workers awake, and a thread
 * waiting for another's task (a REDUCE for the last GEMM) starts the moment it is done. All slots go
 * through Atomics, which also orders the plain wasm-memory writes around them.
 *
 * Work only goes to READY workers: blocking on a worker that is still starting (or failed to start) could
 * wait forever, since its 'error' event needs the event loop the caller is blocking. Until the workers are
 * up, the caller runs every task itself. If a worker's task throws, it still marks the task done (so nobody
 * waits forever), and the caller then runs the whole job again by itself.
 *
 * The worker's code is one function (`workerMain`), its constants written in; runtime.ts starts it as a Node
 * worker thread (a data: URL module, unref'd: it never keeps the process alive), runtime.browser.ts as a Web
 * Worker, over the same memory and control block.
 */
import { type PoolWorker, startPoolWorker } from '../../../runtime.js';

const LINE = 16; // int32 slots per 64-byte cache line
const NEXT = 0;
const PENDING = LINE;
const [TASKS, COUNT, RUN_BY_WORKERS] = [2 * LINE, 2 * LINE + 1, 2 * LINE + 2];
export const COUNTERS = 4;
const counterSlot = (c: number) => (3 + c) * LINE;
const WORKERS_AT = (3 + COUNTERS) * LINE;
const workerSlot = (w: number, field: 'seq' | 'scratch' | 'failed' | 'ready') =>
  WORKERS_AT + w * LINE + ['seq', 'scratch', 'failed', 'ready'].indexOf(field);
/** Per-task table: 8 slots (half a line) per task. */
const TASK_SLOTS = 8;
const [GATE0, NEED0, GATE1, NEED1, BUMP, DONE] = [0, 1, 2, 3, 4, 5];
export const MAX_TASKS = 256;

/**
 * How long a waiting thread polls before it sleeps, in ms (checked every 64 polls): a worker waiting for its
 * next job, and anyone waiting inside a job (a gate, a task's DONE), which is usually a wait for another
 * thread's task of ≤ 1 ms. After a job a worker burns at most JOB on an otherwise idle core.
 */
const SPIN_MS = { JOB: 0.2, IN_JOB: 1 };

/** Returns once c[slot] !== value: polls for `spinMs` first, then sleeps. */
function awaitChange(c: Int32Array, slot: number, value: number, spinMs: number): void {
  for (let n = 1, until = performance.now() + spinMs; Atomics.load(c, slot) === value; n++) {
    if ((n & 63) === 0 && performance.now() > until) {
      Atomics.wait(c, slot, value);
      return;
    }
  }
}

/** The source of worker w's function (module, memory, control, signalReady): it serves jobs until terminated. */
const workerMain = (w: number, taskBytes: number, tableAt: number) => `(module, memory, control, signalReady) => {
const ctrl = new Int32Array(control);
const SEQ = ${workerSlot(w, 'seq')}, SCRATCH = ${workerSlot(w, 'scratch')}, FAILED = ${workerSlot(w, 'failed')};
const NEXT = ${NEXT}, PENDING = ${PENDING}, TASKS = ${TASKS}, COUNT = ${COUNT}, RUN_BY_WORKERS = ${RUN_BY_WORKERS};
const TABLE = ${tableAt};
const counter = (c) => ${counterSlot(0)} + ${LINE} * c;
let gemm = null;
try { gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm; } catch {}
const awaitChange = ${awaitChange.toString()}; // the caller's function, as compiled JavaScript (bound by this name: a minifier renames the function)
function awaitAtLeast(slot, need) {
  for (let v = Atomics.load(ctrl, slot); v < need; v = Atomics.load(ctrl, slot)) awaitChange(ctrl, slot, v, ${SPIN_MS.IN_JOB});
}
let seen = 0;
Atomics.store(ctrl, ${workerSlot(w, 'ready')}, 1);
signalReady();
for (;;) {
  for (let s = Atomics.load(ctrl, SEQ); s === seen; s = Atomics.load(ctrl, SEQ)) awaitChange(ctrl, SEQ, seen, ${SPIN_MS.JOB});
  seen = Atomics.load(ctrl, SEQ);
  const tasks = Atomics.load(ctrl, TASKS), count = Atomics.load(ctrl, COUNT), scratch = Atomics.load(ctrl, SCRATCH);
  for (let i = Atomics.add(ctrl, NEXT, 1); i < count; i = Atomics.add(ctrl, NEXT, 1)) {
    const t = TABLE + ${TASK_SLOTS} * i;
    const g0 = ctrl[t + ${GATE0}], g1 = ctrl[t + ${GATE1}], bump = ctrl[t + ${BUMP}];
    if (g0 >= 0) awaitAtLeast(counter(g0), ctrl[t + ${NEED0}]);
    if (g1 >= 0) awaitAtLeast(counter(g1), ctrl[t + ${NEED1}]);
    try {
      gemm(tasks + i * ${taskBytes}, scratch);
      Atomics.add(ctrl, RUN_BY_WORKERS, 1);
    } catch { Atomics.store(ctrl, FAILED, 1); }
    Atomics.store(ctrl, t + ${DONE}, 1);
    Atomics.notify(ctrl, t + ${DONE});
    if (bump >= 0) { Atomics.add(ctrl, counter(bump), 1); Atomics.notify(ctrl, counter(bump)); }
  }
  if (Atomics.sub(ctrl, PENDING, 1) === 1) Atomics.notify(ctrl, PENDING);
}
}`;

/** What task i waits for before it starts, and which counter it bumps when done. */
export interface TaskDeps {
  gates: readonly { counter: number; need: number }[];
  bump?: number;
}

export interface Job {
  /** Address of the first task record; the others follow every `taskBytes`. */
  tasks: number;
  count: number;
  /** The tasks' dependencies, as ThreadPool.table encodes them (default: none). */
  table?: Int32Array;
}

/** The caller's side of a job, besides running tasks: what it feeds in, and what it does with a finished task. */
export interface JobIo {
  /** Runs first, after the workers were started: copies inputs in, calling `advance(counter)` as parts land. */
  feed?: (advance: (counter: number) => void) => void;
  /** Runs once per task, in task order, once the task is done (copies its part of the result out). */
  drain?: (task: number) => void;
}

export class ThreadPool {
  private readonly workers: PoolWorker[] = [];
  private readonly control: Int32Array;
  private readonly tableAt: number;
  /** Resolves once every worker has reported ready. */
  readonly ready: Promise<void>;

  /** Starts `size` workers at once (they get ready in the background). */
  constructor(module: WebAssembly.Module, memory: WebAssembly.Memory, readonly size: number, readonly taskBytes: number) {
    this.tableAt = WORKERS_AT + size * LINE;
    this.control = new Int32Array(new SharedArrayBuffer(4 * (this.tableAt + MAX_TASKS * TASK_SLOTS)));
    const started: Promise<void>[] = [];
    for (let w = 0; w < size; w++) {
      const data = { module, memory, control: this.control.buffer as SharedArrayBuffer };
      const worker = startPoolWorker(workerMain(w, taskBytes, this.tableAt), data);
      started.push(worker.ready); // a worker that fails to start is never READY, so never given work; startThreads() reports it
      this.workers.push(worker);
    }
    this.ready = Promise.all(started).then(() => undefined);
    this.ready.catch(() => {}); // a failed start is only an error for whoever awaits `ready`
  }

  /** The per-task table for `deps` (one entry per task), to pass as Job.table: built once per job shape. */
  static table(deps: readonly TaskDeps[]): Int32Array {
    const t = new Int32Array(deps.length * TASK_SLOTS);
    deps.forEach((d, i) => {
      const [g0, g1] = d.gates;
      t.set([g0 ? g0.counter : -1, g0 ? g0.need : 0, g1 ? g1.counter : -1, g1 ? g1.need : 0, d.bump ?? -1, 0], i * TASK_SLOTS);
    });
    return t;
  }

  /** Indices of the workers that can take work now. */
  readyWorkers(): number[] {
    return this.workers.map((_, w) => w).filter((w) => Atomics.load(this.control, workerSlot(w, 'ready')) === 1);
  }

  /**
   * Runs every task of `job` on the calling thread (with scratch[0], via `runHere`) and on `workers` (from
   * readyWorkers(), worker i with scratch[i + 1]), honouring the tasks' gates, and returns when all are done
   * and drained. If a worker's task threw, the whole job is run (and drained) again here, so the result is
   * always complete.
   */
  run(job: Job, workers: readonly number[], scratch: readonly number[], runHere: (task: number, scratch: number) => void, io: JobIo = {}): void {
    if (job.count > MAX_TASKS) throw new Error(`ThreadPool: ${job.count} tasks, at most ${MAX_TASKS}`);
    const c = this.control;
    const table = (i: number, slot: number) => this.tableAt + TASK_SLOTS * i + slot;
    for (let k = 0; k < COUNTERS; k++) Atomics.store(c, counterSlot(k), 0);
    // Plain writes: the Atomics.add on each worker's SEQ below publishes them.
    c.set(job.table ?? ThreadPool.table(Array.from({ length: job.count }, () => ({ gates: [] }))), this.tableAt);

    Atomics.store(c, TASKS, job.tasks);
    Atomics.store(c, COUNT, job.count);
    Atomics.store(c, NEXT, 0);
    Atomics.store(c, PENDING, workers.length);
    workers.forEach((w, i) => {
      Atomics.store(c, workerSlot(w, 'failed'), 0);
      Atomics.store(c, workerSlot(w, 'scratch'), scratch[i + 1]!);
      Atomics.add(c, workerSlot(w, 'seq'), 1);
      Atomics.notify(c, workerSlot(w, 'seq'));
    });

    io.feed?.((counter) => {
      Atomics.add(c, counterSlot(counter), 1);
      Atomics.notify(c, counterSlot(counter));
    });

    // Claim and run tasks; between tasks (and while a gate holds us up) drain the tasks that are done.
    let drained = 0;
    const drainDone = () => {
      // (Not `io.drain?.(drained++)`: without a drain, ?. would skip the increment too.)
      for (; drained < job.count && Atomics.load(c, table(drained, DONE)) === 1; drained++) io.drain?.(drained);
    };
    const awaitAtLeast = (slot: number, need: number) => {
      for (let v = Atomics.load(c, slot); v < need; v = Atomics.load(c, slot)) {
        drainDone();
        awaitChange(c, slot, v, SPIN_MS.IN_JOB);
      }
    };
    for (let i = Atomics.add(c, NEXT, 1); i < job.count; i = Atomics.add(c, NEXT, 1)) {
      const [g0, g1] = [Atomics.load(c, table(i, GATE0)), Atomics.load(c, table(i, GATE1))];
      if (g0 >= 0) awaitAtLeast(counterSlot(g0), Atomics.load(c, table(i, NEED0)));
      if (g1 >= 0) awaitAtLeast(counterSlot(g1), Atomics.load(c, table(i, NEED1)));
      runHere(job.tasks + i * this.taskBytes, scratch[0]!);
      Atomics.store(c, table(i, DONE), 1);
      const bump = Atomics.load(c, table(i, BUMP));
      if (bump >= 0) {
        Atomics.add(c, counterSlot(bump), 1);
        Atomics.notify(c, counterSlot(bump));
      }
      drainDone();
    }
    // Nothing left to claim: drain the rest in order as the workers finish them.
    for (; drained < job.count; drained++) {
      awaitChange(c, table(drained, DONE), 0, SPIN_MS.IN_JOB);
      io.drain?.(drained);
    }
    for (let left = Atomics.load(c, PENDING); left !== 0; left = Atomics.load(c, PENDING)) awaitChange(c, PENDING, left, SPIN_MS.IN_JOB);
    if (workers.some((w) => Atomics.load(c, workerSlot(w, 'failed')))) {
      this.stats.failedJobs++;
      for (let i = 0; i < job.count; i++) {
        runHere(job.tasks + i * this.taskBytes, scratch[0]!);
        io.drain?.(i);
      }
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
