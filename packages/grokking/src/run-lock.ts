/**
 * One writer per run directory. Whatever trains into DIR (train, --resume, an experiment) first takes
 * DIR/lock, a small JSON file {pid, host, started, command}:
 *
 *   taken atomically  the content is written to a temp file beside DIR, which is then hard-linked to DIR/lock.
 *                     link() fails if DIR/lock exists, so of two processes exactly one succeeds, and nobody
 *                     ever reads half a lock file. A process that is refused leaves DIR as it found it.
 *   released          when training ends, and on process exit (a second Ctrl-C exits at once).
 *   stale             when its pid is gone on this host (kill -9, a crash, a reboot): the next writer takes
 *                     it over. A lock of another host cannot be checked and is never taken over.
 *
 * Readers (analyze, report) take no lock: every file training writes is replaced atomically, so a reader
 * sees each file whole, old or new.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface LockOwner {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  started: string;
  /** The command line of the holder, for the message a refused process prints. */
  command: string;
}

/** Thrown when another process holds the directory; the CLI turns it into exit code 2. */
export class RunLockedError extends Error {}

export class RunLock {
  #released = false;
  readonly #onExit = () => this.release();

  private constructor(
    readonly file: string,
    readonly owner: LockOwner,
    /** The stale holder whose lock this one replaced, if any (worth a line in the log). */
    readonly tookOverFrom: LockOwner | null,
  ) {
    process.on('exit', this.#onExit);
  }

  /** Takes the lock on `dir` (creating the directory if needed), or throws RunLockedError naming the holder. */
  static acquire(dir: string): RunLock {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'lock');
    const owner: LockOwner = {
      pid: process.pid,
      host: os.hostname(),
      started: new Date().toISOString(),
      command: process.argv.slice(1).join(' '),
    };
    // Beside DIR, not in it: a refused process must not touch DIR at all (not even its mtime).
    const tmp = path.join(path.dirname(path.resolve(dir)), `.${path.basename(path.resolve(dir))}.lock-${process.pid}-${Math.random().toString(36).slice(2)}`);
    fs.writeFileSync(tmp, JSON.stringify(owner) + '\n');
    let tookOverFrom: LockOwner | null = null;
    try {
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          fs.linkSync(tmp, file); // atomic: fails with EEXIST if anyone holds the lock
          return new RunLock(file, owner, tookOverFrom);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`run ${dir}: cannot create ${file} (${(e as Error).message})`);
        }
        const holder = readOwner(file);
        if (holder === 'gone') continue; // released between our link and our read: try again
        if (holder === 'unreadable') {
          throw new RunLockedError(`run ${dir} is locked, but ${file} cannot be read. If no training runs there, delete ${file}.`);
        }
        if (!isStale(holder)) throw new RunLockedError(lockedMessage(dir, file, holder));
        removeStale(file, holder);
        tookOverFrom = holder;
      }
      throw new RunLockedError(`run ${dir}: the lock changed hands repeatedly while being taken; is another process starting there?`);
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  /** Removes the lock file (once; only if it is still ours). */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    process.off('exit', this.#onExit);
    const holder = readOwner(this.file);
    if (typeof holder === 'object' && sameOwner(holder, this.owner)) fs.rmSync(this.file, { force: true });
  }
}

function readOwner(file: string): LockOwner | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
  try {
    const o = JSON.parse(text) as LockOwner;
    if (Number.isSafeInteger(o.pid) && o.pid > 0 && typeof o.host === 'string') return o;
  } catch {
    // falls through
  }
  return 'unreadable';
}

const sameOwner = (a: LockOwner, b: LockOwner) => a.pid === b.pid && a.host === b.host && a.started === b.started;

/** Stale: held on this host by a process that no longer exists. */
function isStale(o: LockOwner): boolean {
  if (o.host !== os.hostname()) return false; // cannot check another machine's processes
  if (o.pid === process.pid) return false; // this very process holds it (a second training in one process)
  try {
    process.kill(o.pid, 0); // signal 0: only checks that the process exists
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH'; // EPERM: it exists, owned by another user
  }
}

/**
 * Deletes a stale lock, and only that one: it is first renamed to a name of our own (atomic, so of several
 * processes breaking it only one succeeds), then checked. If a live process took the lock between our read
 * and the rename, its lock is put back.
 */
function removeStale(file: string, stale: LockOwner): void {
  const aside = `${file}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    fs.renameSync(file, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // someone else removed it first
    throw e;
  }
  const moved = readOwner(aside);
  try {
    if (typeof moved === 'object' && !sameOwner(moved, stale)) fs.linkSync(aside, file); // not the stale one: restore it
  } finally {
    fs.rmSync(aside, { force: true });
  }
}

function lockedMessage(dir: string, file: string, o: LockOwner): string {
  const where = o.host === os.hostname() ? (o.pid === process.pid ? 'this process' : `process ${o.pid}`) : `process ${o.pid} on host ${o.host}`;
  return (
    `run ${dir} is locked by pid ${o.pid}: ${where} has been training there since ${o.started} (${o.command}). ` +
    `Only one process may write to a run; nothing was changed. Wait for it to finish or stop it` +
    (o.host === os.hostname() ? '' : `; if it no longer runs on ${o.host}, delete ${file}`) +
    '. Read-only commands (analyze, report) work meanwhile.'
  );
}
