/**
 * live-status.json: what the live report's child found, for the training process's progress line. The child
 * writes it (atomically) after each refresh; training reads it when the child has exited: one small file, so
 * training itself never analyses anything.
 */
import * as fs from 'node:fs';
import { writeFileAtomic } from '../run-dir.js';
import type { PhaseName } from './phase-so-far.js';

export interface LiveStatus {
  /** The newest measured checkpoint, and its own key frequencies (ascending). */
  step: number;
  keyFrequencies: number[];
  /** The phase at the newest logged step `phaseStep`, by the paper's rule on the losses so far (phase-so-far.ts). */
  phase: PhaseName;
  phaseStep: number;
  /** Checkpoints measured so far, of how many on disk. */
  measured: number;
  checkpoints: number;
}

const PHASES: readonly string[] = ['memorisation', 'circuit formation', 'cleanup', 'grokked'] satisfies PhaseName[];

export function writeLiveStatus(file: string, status: LiveStatus): void {
  writeFileAtomic(file, JSON.stringify(status) + '\n');
}

/** The status, or null if there is none yet or it is not one (a progress line is no place for errors). */
export function readLiveStatus(file: string): LiveStatus | null {
  let x: unknown;
  try {
    x = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return null;
  }
  const s = x as LiveStatus;
  const ok =
    typeof x === 'object' && x !== null &&
    Number.isSafeInteger(s.step) && Number.isSafeInteger(s.phaseStep) &&
    Array.isArray(s.keyFrequencies) && s.keyFrequencies.every((k) => Number.isSafeInteger(k)) &&
    PHASES.includes(s.phase) && Number.isSafeInteger(s.measured) && Number.isSafeInteger(s.checkpoints);
  return ok ? s : null;
}

/** The progress line's part: `phase: circuit formation | keys 14 35 41 52`. */
export function formatLiveStatus(s: LiveStatus): string {
  return `phase: ${s.phase} | keys ${s.keyFrequencies.join(' ') || 'none'}`;
}

/** The status after a refresh: its newest row's keys, and the phase from the logged losses (null: nothing yet). */
export function liveStatusOf(
  rows: readonly { step: number; keyFrequencies: number[] }[],
  checkpoints: number,
  phase: { name: PhaseName; step: number } | null,
): LiveStatus | null {
  const newest = rows.reduce<(typeof rows)[number] | null>((n, r) => (n === null || r.step > n.step ? r : n), null);
  if (newest === null || phase === null) return null;
  return { step: newest.step, keyFrequencies: newest.keyFrequencies, phase: phase.name, phaseStep: phase.step, measured: rows.length, checkpoints };
}
