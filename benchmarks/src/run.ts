/**
 * `pnpm bench`: runs the suites, prints a table and writes benchmarks/results/latest.json.
 * `--quick` only checks that everything still runs (few repetitions; the numbers mean little).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { fastMatmulUsesRelaxedSimd } from '@grok/tensor';
import { type MatmulRow, runMatmulBench } from './matmul.js';

// Relaxed SIMD (FMA) is a start-up flag in Node 20, which NODE_OPTIONS refuses: rerun this script with it,
// unless it is on already, was tried, or GROK_RELAXED_SIMD=0 asks for the plain kernel.
const RELAXED_FLAG = '--experimental-wasm-relaxed-simd';
const wantRelaxed = !fastMatmulUsesRelaxedSimd() && process.env['GROK_RELAXED_SIMD'] !== '0';
if (wantRelaxed && !process.execArgv.includes(RELAXED_FLAG) && spawnSync(process.execPath, [RELAXED_FLAG, '-e', '0']).status === 0) {
  const child = spawnSync(process.execPath, [...process.execArgv, RELAXED_FLAG, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const quick = process.argv.includes('--quick');

function printMatmul(rows: readonly MatmulRow[]): void {
  const fmt = (x: number | undefined, digits = 1) => (x === undefined ? '' : x.toFixed(digits));
  console.log('matmul, float32 (GFLOP/s; best of several calls; copy = share of time spent copying in/out of wasm)');
  console.log(`${'shape'.padEnd(26)}${'impl'.padEnd(16)}${'threads'.padStart(8)}${'GFLOP/s'.padStart(10)}${'ms'.padStart(9)}${'copy'.padStart(7)}`);
  for (const r of rows) {
    const copy = r.copyShare === undefined ? '' : `${fmt(100 * r.copyShare, 0)}%`;
    console.log(`${r.shape.padEnd(26)}${r.impl.padEnd(16)}${String(r.threads).padStart(8)}${fmt(r.gflops).padStart(10)}${fmt(r.ms, 2).padStart(9)}${copy.padStart(7)}`);
  }
}

const machine = {
  cores: availableParallelism(),
  cpu: cpus()[0]?.model ?? 'unknown',
  node: process.version,
  relaxedSimd: fastMatmulUsesRelaxedSimd(),
};
console.log(`${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, relaxed SIMD: ${machine.relaxedSimd ? 'on' : 'off (run node with --experimental-wasm-relaxed-simd)'}${quick ? ', quick mode' : ''}\n`);

const rows = await runMatmulBench({ quick });
printMatmul(rows);

const resultsDir = fileURLToPath(new URL('../results/', import.meta.url));
mkdirSync(resultsDir, { recursive: true });
writeFileSync(`${resultsDir}latest.json`, `${JSON.stringify({ machine, quick, rows }, null, 2)}\n`);
console.log(`\nwrote ${resultsDir}latest.json`);
