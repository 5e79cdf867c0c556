/**
 * Worker threads that run exported functions of wasm kernel modules on the shared wasm memory, driven
 * synchronously from the caller: the matmul's `gemm(task, scratch)`, and any other kernel split into pieces.
 *
 * The pool is made over named modules (`{ matmul, vector, columnSum, … }`, see fast-matmul.ts's poolModules):
 * every worker instantiates each of them over the same shared memory, and a kernel is named
 * '<module>.<export>' ('vector.add'). A job is one kernel and `count` tasks, each task the kernel's arguments
 * (numbers: byte pointers, counts, float scalars; at most ARG_SLOTS), one handshake for the whole job. A job
 * may also give one extra argument per thread (`scratch`: the matmul's per-thread scratch record), passed
 * after the task's own. Every thread, the caller included, claims the next unclaimed task from NEXT until
 * none are left: on this shared machine a core can be busy elsewhere, and claiming lets the other threads
 * take up its share.
 *
 * How to run a kernel of your own on the threads (a cross-entropy over rows, say):
 *   1. add its module to poolModules (fast-matmul.ts): { module, here: its exports on this thread };
 *   2. write the kernel so that a piece of the work is a call with other arguments (rows r0 … r1 − 1:
 *      the row pointers moved on by r0 rows, the row count r1 − r0);
 *   3. bind it once with parallelKernel (parallel.ts), which splits, honours setThreads and the size
 *      threshold, and calls the kernel whole on this thread when splitting would not pay:
 *        const run = parallelKernel('crossEntropy.rows', rows, (r0, r1) => [x + 4 * cols * r0, y + 4 * r0, r1 - r0, cols],
 *          { unitElements: cols });
 *        run();
 * ThreadPool.run itself takes any job (kernel name, argument lists, optional dependencies) for kernels that
 * need more than independent pieces, as the matmul does.
 *
 * NEXT holds the job's number with the next task (job · 512 + task), and a task is claimed by a
 * compareExchange that succeeds only if the job is still the one the thread read its fields for. So the
 * caller never waits for a worker that took no task: a worker that wakes late (on a loaded machine a
 * sleeping worker can take a millisecond to get a core) finds its job gone and its claims failing, and
 * goes back to waiting. The caller waits only for the tasks a worker did claim, and a worker's last write
 * for a task is its DONE: once the caller has seen every DONE, nothing of the job is still to land.
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
 *   NEXT                   the job's number and its next unclaimed task
 *   KERNEL, COUNT, ARGC, RUN_BY_WORKERS   the job: its kernel, tasks, arguments per task; tasks completed by
 *                          workers (for tests)
 *   COUNTER[0..3]          one line each
 *   per worker: SEQ, SCRATCH, READY, AWAKE   bumped by the caller to start worker w / its extra argument
 *                          (−1: this job is not for w) / set by the worker: it sits in its loop and can take
 *                          work / it is polling for its next job (0 while it sleeps)
 *   per task: GATE0, NEED0, GATE1, NEED1, BUMP, DONE (1: done, 2: it threw)
 *   then, as float64: per task, its ARG_SLOTS arguments
 * Waiting is spin-then-sleep, as in pthreadpool: whoever waits (a worker for its next job or a gate, the
 * caller for a worker's task) polls the slot for a while (SPIN_MS) before it sleeps in Atomics.wait.
 * Measured in this VM: a sleeping worker takes 33 µs (median) to wake after 0.05 ms asleep, 55 µs after 5 ms,
 * 112 µs after 20 ms; a polling one under 1 µs. So back-to-back jobs find the workers awake, and a thread
 * waiting for another's task (a REDUCE for the last GEMM) starts the moment it is done. All slots go
 * through Atomics, which also orders the plain wasm-memory writes around them.
 *
 * Work only goes to READY workers: blocking on a worker that is still starting (or failed to start) could
 * wait forever, since its 'error' event needs the event loop the caller is blocking. Until the workers are
 * up, the caller runs every task itself. If a worker's task throws (its module failed to instantiate there),
 * it still marks the task done, as failed (so nobody waits forever), and the caller then runs that task again
 * itself, with every later task that waited on a counter (it may have read the failed task's output), in
 * order. Tasks that wait on nothing are never run twice: an in-place kernel (out = a + b with out = a) run
 * twice would be wrong.
 *
 * The worker's code is one function (`workerMain`), its constants written in; runtime.ts starts it as a Node
 * worker thread (a data: URL module, unref'd: it never keeps the process alive), runtime.browser.ts as a Web
 * Worker, over the same memory and control block.
 */
import { type PoolWorker, startPoolWorker } from '../../../runtime.js';

const LINE = 16; // int32 slots per 64-byte cache line
const NEXT = 0;
/** NEXT = job · TASK_LIMIT + next task; job numbers wrap at JOB_LIMIT (a worker would have to sleep through 4M jobs to mistake one for another). */
const TASK_LIMIT = 512;
const JOB_LIMIT = 1 << 22;
/** A worker's SCRATCH slot when the job is not for it. */
const NOT_IN_JOB = -1;
const [KERNEL, COUNT, ARGC, RUN_BY_WORKERS] = [2 * LINE, 2 * LINE + 1, 2 * LINE + 2, 2 * LINE + 3];
export const COUNTERS = 4;
const counterSlot = (c: number) => (3 + c) * LINE;
const WORKERS_AT = (3 + COUNTERS) * LINE;
const WORKER_FIELDS = ['seq', 'scratch', 'ready', 'awake'] as const;
const workerSlot = (w: number, field: (typeof WORKER_FIELDS)[number]) => WORKERS_AT + w * LINE + WORKER_FIELDS.indexOf(field);
/** Per-task table: 8 slots (half a line) per task. */
const TASK_SLOTS = 8;
const [GATE0, NEED0, GATE1, NEED1, BUMP, DONE] = [0, 1, 2, 3, 4, 5];
const [DONE_OK, DONE_FAILED] = [1, 2];
export const MAX_TASKS = 256; // < TASK_LIMIT
/** Arguments a task can give its kernel (float64 slots, so pointers, counts and float scalars all fit exactly). */
export const ARG_SLOTS = 16;

/**
 * How long a waiting thread polls before it sleeps, in ms (checked every 64 polls): a worker waiting for its
 * next job, and anyone waiting inside a job (a gate, a task's DONE), which is usually a wait for another
 * thread's task of ≤ 1 ms. After a job a worker burns at most JOB on an otherwise idle core. JOB is 1 ms
 * (it was 0.2 ms when only the matmul used the pool) so that a worker is still awake for the split kernels
 * that follow a matmul across the small JavaScript kernels in between: the short split kernels use only
 * awake workers (parallel.ts).
 */
const SPIN_MS = { JOB: 1, IN_JOB: 1 };

/** The next task of job `job` (claimed: no other thread gets it), or −1 when that job has none left or is over. */
function claim(c: Int32Array, job: number, count: number): number {
  for (;;) {
    const word = Atomics.load(c, 0); // NEXT
    const task = word % 512; // TASK_LIMIT
    if ((word - task) / 512 !== job || task >= count) return -1;
    if (Atomics.compareExchange(c, 0, word, word + 1) === word) return task;
  }
}

/**
 * Returns once c[slot] !== value: polls for `spinMs` first, then sleeps, and checks again after every wake:
 * a wake can come from a notify meant for an earlier job (a worker's DONE of the last job, arriving after
 * the caller already saw it by polling and moved on), with the slot still at `value`. With `awake` ≥ 0,
 * c[awake] says whether the thread is polling (1) or asleep (0).
 */
function awaitChange(c: Int32Array, slot: number, value: number, spinMs: number, awake = -1): void {
  for (let n = 1, until = performance.now() + spinMs; Atomics.load(c, slot) === value; n++) {
    if ((n & 63) === 0 && performance.now() > until) {
      if (awake >= 0) Atomics.store(c, awake, 0);
      Atomics.wait(c, slot, value);
      if (awake >= 0) Atomics.store(c, awake, 1);
    }
  }
}

/** The kernels of `modules`, in the order both sides number them: module by module, exports in module order. */
function kernelNames(modules: Record<string, WebAssembly.Module>): string[] {
  return Object.entries(modules).flatMap(([name, module]) =>
    WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => `${name}.${e.name}`));
}

/** The source of worker w's function (modules, memory, control, signalReady): it serves jobs until terminated. */
const workerMain = (w: number, tableAt: number, argsAt: number) => `(modules, memory, control, signalReady) => {
const ctrl = new Int32Array(control);
const args = new Float64Array(control, ${4 * argsAt}, ${MAX_TASKS * ARG_SLOTS});
const SEQ = ${workerSlot(w, 'seq')}, SCRATCH = ${workerSlot(w, 'scratch')};
const NEXT = ${NEXT}, KERNEL = ${KERNEL}, COUNT = ${COUNT}, ARGC = ${ARGC}, RUN_BY_WORKERS = ${RUN_BY_WORKERS};
const TABLE = ${tableAt};
const counter = (c) => ${counterSlot(0)} + ${LINE} * c;
// Every function export of every module, numbered as the caller numbers them (kernelNames); a module that
// fails to instantiate here leaves its entries undefined, so its tasks throw and the caller reruns them.
const kernels = [];
for (const name of Object.keys(modules)) {
  let exports = {};
  try { exports = new WebAssembly.Instance(modules[name], { env: { memory } }).exports; } catch {}
  for (const e of WebAssembly.Module.exports(modules[name])) if (e.kind === 'function') kernels.push(exports[e.name]);
}
// The caller's functions, as compiled JavaScript (bound by these names: a minifier renames the functions).
const awaitChange = ${awaitChange.toString()};
const claim = ${claim.toString()};
function awaitAtLeast(slot, need) {
  for (let v = Atomics.load(ctrl, slot); v < need; v = Atomics.load(ctrl, slot)) awaitChange(ctrl, slot, v, ${SPIN_MS.IN_JOB});
}
const argv = [];
let seen = 0;
Atomics.store(ctrl, ${workerSlot(w, 'awake')}, 1);
Atomics.store(ctrl, ${workerSlot(w, 'ready')}, 1);
signalReady();
for (;;) {
  for (let s = Atomics.load(ctrl, SEQ); s === seen; s = Atomics.load(ctrl, SEQ)) awaitChange(ctrl, SEQ, seen, ${SPIN_MS.JOB}, ${workerSlot(w, 'awake')});
  seen = Atomics.load(ctrl, SEQ);
  // The job's number first: the fields read after it belong to that job if a claim in it succeeds.
  const job = Math.floor(Atomics.load(ctrl, NEXT) / ${TASK_LIMIT});
  const kernel = kernels[Atomics.load(ctrl, KERNEL)], count = Atomics.load(ctrl, COUNT), argc = Atomics.load(ctrl, ARGC);
  argv.length = argc + 1;
  argv[argc] = Atomics.load(ctrl, SCRATCH);
  if (argv[argc] === ${NOT_IN_JOB}) continue;
  for (let i = claim(ctrl, job, count); i >= 0; i = claim(ctrl, job, count)) {
    const t = TABLE + ${TASK_SLOTS} * i;
    const g0 = ctrl[t + ${GATE0}], g1 = ctrl[t + ${GATE1}], bump = ctrl[t + ${BUMP}];
    if (g0 >= 0) awaitAtLeast(counter(g0), ctrl[t + ${NEED0}]);
    if (g1 >= 0) awaitAtLeast(counter(g1), ctrl[t + ${NEED1}]);
    let done = ${DONE_OK};
    try {
      for (let k = 0; k < argc; k++) argv[k] = args[${ARG_SLOTS} * i + k];
      Reflect.apply(kernel, undefined, argv);
      Atomics.add(ctrl, RUN_BY_WORKERS, 1);
    } catch { done = ${DONE_FAILED}; }
    // The counter before DONE: once the caller has seen every DONE, no write of this job is still to come
    // (a late bump would land in the next job's counters).
    if (bump >= 0) { Atomics.add(ctrl, counter(bump), 1); Atomics.notify(ctrl, counter(bump)); }
    Atomics.store(ctrl, t + ${DONE}, done);
    Atomics.notify(ctrl, t + ${DONE});
  }
}
}`;

/** What task i waits for before it starts, and which counter it bumps when done. */
export interface TaskDeps {
  gates: readonly { counter: number; need: number }[];
  bump?: number;
}

export interface Job {
  /** '<module>.<export>', e.g. 'vector.add' or 'matmul.gemm'. */
  kernel: string;
  count: number;
  /** Arguments per task. */
  argc: number;
  /** Task i's arguments at ARG_SLOTS · i (ThreadPool.tasks builds it). */
  args: Float64Array;
  /** The tasks' dependencies, as ThreadPool.table encodes them (default: none). */
  table?: Int32Array;
  /** Per thread (the caller's first, then worker i's at i + 1): one more argument, after the task's own. */
  scratch?: readonly number[];
}

/** The caller's side of a job, besides running tasks: what it feeds in, and what it does with a finished task. */
export interface JobIo {
  /** Runs first, after the workers were started: copies inputs in, calling `advance(counter)` as parts land. */
  feed?: (advance: (counter: number) => void) => void;
  /** Runs once per task, in task order, once the task is done (copies its part of the result out). */
  drain?: (task: number) => void;
}

type Kernel = (...args: number[]) => void;

/** A module for the pool, with its exports as instantiated on the calling thread (which runs tasks too). */
export interface PoolModule {
  module: WebAssembly.Module;
  here: object;
}

export class ThreadPool {
  private readonly workers: PoolWorker[] = [];
  private readonly control: Int32Array;
  private readonly args: Float64Array;
  private readonly tableAt: number;
  /** Kernel numbers by name, and the calling thread's function for each. */
  private readonly ids = new Map<string, number>();
  private readonly here: Kernel[] = [];
  /** Resolves once every worker has reported ready. */
  readonly ready: Promise<void>;

  /** Starts `size` workers at once (they get ready in the background), each with an instance of every module. */
  constructor(modules: Record<string, PoolModule>, memory: WebAssembly.Memory, readonly size: number) {
    const compiled = Object.fromEntries(Object.entries(modules).map(([name, m]) => [name, m.module]));
    for (const name of kernelNames(compiled)) {
      const [module, fn] = name.split('.') as [string, string];
      this.ids.set(name, this.here.length);
      this.here.push((modules[module]!.here as Record<string, Kernel>)[fn]!);
    }
    this.tableAt = WORKERS_AT + size * LINE;
    const argsAt = 2 * Math.ceil((this.tableAt + MAX_TASKS * TASK_SLOTS) / 2); // float64-aligned
    const control = new SharedArrayBuffer(4 * argsAt + 8 * MAX_TASKS * ARG_SLOTS);
    this.control = new Int32Array(control);
    this.args = new Float64Array(control, 4 * argsAt, MAX_TASKS * ARG_SLOTS);
    const started: Promise<void>[] = [];
    for (let w = 0; w < size; w++) {
      const worker = startPoolWorker(workerMain(w, this.tableAt, argsAt), { modules: compiled, memory, control });
      started.push(worker.ready); // a worker that fails to start is never READY, so never given work; startThreads() reports it
      this.workers.push(worker);
    }
    this.ready = Promise.all(started).then(() => undefined);
    this.ready.catch(() => {}); // a failed start is only an error for whoever awaits `ready`
  }

  /** Whether the pool can run `kernel` ('<module>.<export>'). */
  has(kernel: string): boolean {
    return this.ids.has(kernel);
  }

  /** Job.args and Job.argc for tasks given as argument lists (all of the same length). */
  static tasks(argLists: readonly (readonly number[])[]): Pick<Job, 'count' | 'argc' | 'args'> {
    const argc = argLists[0]?.length ?? 0;
    if (argc > ARG_SLOTS) throw new Error(`ThreadPool: a task has ${argc} arguments, at most ${ARG_SLOTS}`);
    const args = new Float64Array(argLists.length * ARG_SLOTS);
    argLists.forEach((a, i) => {
      if (a.length !== argc) throw new Error(`ThreadPool: task ${i} has ${a.length} arguments, task 0 has ${argc}`);
      args.set(a, i * ARG_SLOTS);
    });
    return { count: argLists.length, argc, args };
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

  private static readonly independentTables = new Map<number, Int32Array>();
  /** The table of `count` tasks that wait for nothing (a split kernel's pieces). */
  static independent(count: number): Int32Array {
    let t = ThreadPool.independentTables.get(count);
    if (!t) ThreadPool.independentTables.set(count, (t = ThreadPool.table(Array.from({ length: count }, () => ({ gates: [] })))));
    return t;
  }

  /** Indices of the workers that can take work now. */
  readyWorkers(): number[] {
    return this.workers.map((_, w) => w).filter((w) => Atomics.load(this.control, workerSlot(w, 'ready')) === 1);
  }

  /**
   * Those of `workers` that are polling for their next job rather than asleep. A kernel of well under a
   * millisecond should use only these: waking a sleeping worker takes 30–110 µs here, and on a loaded
   * machine the woken worker can take the caller's core, so that the caller sits idle while the worker does
   * the whole job (measured: the worker took all 16 pieces of an add in ≈ 2× the caller's time alone).
   */
  awakeWorkers(workers: readonly number[]): number[] {
    return workers.filter((w) => Atomics.load(this.control, workerSlot(w, 'awake')) === 1);
  }

  /**
   * Runs every task of `job` on the calling thread and on `workers` (from readyWorkers()), honouring the
   * tasks' gates, and returns when all are done and drained. If a worker's task threw, it is run (and
   * drained) again here, with the gated tasks after it, so the result is always complete.
   */
  run(job: Job, workers: readonly number[], io: JobIo = {}): void {
    if (job.count > MAX_TASKS) throw new Error(`ThreadPool: ${job.count} tasks, at most ${MAX_TASKS}`);
    const id = this.ids.get(job.kernel);
    if (id === undefined) throw new Error(`ThreadPool: no kernel '${job.kernel}' (the pool has ${[...this.ids.keys()].join(', ')})`);
    const c = this.control;
    const table = (i: number, slot: number) => this.tableAt + TASK_SLOTS * i + slot;
    for (let k = 0; k < COUNTERS; k++) Atomics.store(c, counterSlot(k), 0);
    // Plain writes: the Atomics.add on each worker's SEQ below publishes them.
    c.set(job.table ?? ThreadPool.independent(job.count), this.tableAt);
    this.args.set(job.args.subarray(0, job.count * ARG_SLOTS));

    Atomics.store(c, KERNEL, id);
    Atomics.store(c, COUNT, job.count);
    Atomics.store(c, ARGC, job.argc);
    // Every worker's extra argument, NOT_IN_JOB for those not given this job (one still awake from an
    // earlier job must not join it: it has no scratch record in it).
    for (let w = 0; w < this.size; w++) Atomics.store(c, workerSlot(w, 'scratch'), NOT_IN_JOB);
    workers.forEach((w, i) => Atomics.store(c, workerSlot(w, 'scratch'), job.scratch?.[i + 1] ?? 0));
    // A new job number with task 0 publishes the job (its fields were written first), then the workers wake.
    const jobNumber = (Math.floor(Atomics.load(c, NEXT) / TASK_LIMIT) + 1) % JOB_LIMIT;
    Atomics.store(c, NEXT, jobNumber * TASK_LIMIT);
    for (const w of workers) {
      Atomics.add(c, workerSlot(w, 'seq'), 1);
      Atomics.notify(c, workerSlot(w, 'seq'));
    }

    io.feed?.((counter) => {
      Atomics.add(c, counterSlot(counter), 1);
      Atomics.notify(c, counterSlot(counter));
    });

    const kernel = this.here[id]!;
    const argv: number[] = new Array(job.argc + 1);
    argv[job.argc] = job.scratch?.[0] ?? 0;
    const runHere = (i: number) => {
      for (let k = 0; k < job.argc; k++) argv[k] = job.args[ARG_SLOTS * i + k]!;
      Reflect.apply(kernel, undefined, argv);
    };
    // Claim and run tasks; between tasks (and while a gate holds us up) drain the tasks that are done.
    let drained = 0;
    const drainDone = () => {
      // (Not `io.drain?.(drained++)`: without a drain, ?. would skip the increment too.)
      for (; drained < job.count && Atomics.load(c, table(drained, DONE)) !== 0; drained++) io.drain?.(drained);
    };
    const awaitAtLeast = (slot: number, need: number) => {
      for (let v = Atomics.load(c, slot); v < need; v = Atomics.load(c, slot)) {
        drainDone();
        awaitChange(c, slot, v, SPIN_MS.IN_JOB);
      }
    };
    for (let i = claim(c, jobNumber, job.count); i >= 0; i = claim(c, jobNumber, job.count)) {
      const [g0, g1] = [Atomics.load(c, table(i, GATE0)), Atomics.load(c, table(i, GATE1))];
      if (g0 >= 0) awaitAtLeast(counterSlot(g0), Atomics.load(c, table(i, NEED0)));
      if (g1 >= 0) awaitAtLeast(counterSlot(g1), Atomics.load(c, table(i, NEED1)));
      runHere(i);
      const bump = Atomics.load(c, table(i, BUMP));
      if (bump >= 0) {
        Atomics.add(c, counterSlot(bump), 1);
        Atomics.notify(c, counterSlot(bump));
      }
      Atomics.store(c, table(i, DONE), DONE_OK);
      drainDone();
    }
    // Nothing left to claim: drain the rest in order as the workers finish them.
    for (; drained < job.count; drained++) {
      awaitChange(c, table(drained, DONE), 0, SPIN_MS.IN_JOB);
      io.drain?.(drained);
    }
    let failed = false;
    for (let i = 0; i < job.count; i++) {
      const gated = Atomics.load(c, table(i, GATE0)) >= 0 || Atomics.load(c, table(i, GATE1)) >= 0;
      if (Atomics.load(c, table(i, DONE)) === DONE_FAILED) failed = true;
      else if (!(failed && gated)) continue;
      runHere(i);
      io.drain?.(i);
    }
    if (failed) this.stats.failedJobs++;
  }

  /** Tasks the workers have completed so far, and jobs partly rerun here after a worker's task threw (for tests). */
  readonly stats = { failedJobs: 0 };
  tasksRunByWorkers(): number {
    return Atomics.load(this.control, RUN_BY_WORKERS);
  }

  /** Stops the workers (tests; a process exits without this). */
  async terminate(): Promise<void> {
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }
}
