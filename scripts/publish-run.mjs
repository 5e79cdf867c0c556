#!/usr/bin/env node
/**
 * Copies what a reader needs to see and check a finished run, without rerunning it, into a folder that is
 * committed (docs/runs/NAME):
 *   config.json, metrics.jsonl, analysis.json, paper-comparison.md, figures/*.svg under 200 kB
 *   checkpoints/: step 0, the end of each phase (analysis.json `phases`) and the final step
 *                 (with --final-only: the final step only).
 * report.html and the heat-map figures (one SVG rectangle per cell: megabytes) are left out: `pnpm grok
 * report docs/runs/NAME` draws them again from these files in a few seconds.
 *
 *   node scripts/publish-run.mjs runs/paper-seed0 docs/runs/paper-seed0 [--final-only]
 *
 * The run must have been analysed and reported (`pnpm grok analyze DIR && pnpm grok report DIR`). The
 * folder is replaced as a whole, so it never mixes files of two runs. It refuses to write more than 8 MB.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const [from, to, flag] = process.argv.slice(2);
if (flag !== undefined && flag !== '--final-only') {
  console.error(`publish-run: unknown option '${flag}' (known: --final-only)`);
  process.exit(2);
}
if (!from || !to) {
  console.error('usage: node scripts/publish-run.mjs RUN_DIR OUT_DIR');
  process.exit(2);
}
const need = ['config.json', 'metrics.jsonl', 'analysis.json', 'paper-comparison.md'];
for (const f of need) {
  if (!fs.existsSync(path.join(from, f))) {
    console.error(`publish-run: ${path.join(from, f)} is missing (run pnpm grok analyze ${from} && pnpm grok report ${from})`);
    process.exit(1);
  }
}
const analysis = JSON.parse(fs.readFileSync(path.join(from, 'analysis.json'), 'utf8'));
const steps = analysis.steps;
const phaseEnds = [analysis.phases.memorisation, analysis.phases.circuitFormation, analysis.phases.cleanup].filter(Boolean).map((p) => p[1]);
const chosen = [...new Set(flag === '--final-only' ? [steps.at(-1)] : [steps[0], ...phaseEnds, steps.at(-1)])].sort((a, b) => a - b);
const ckpt = (step) => `step-${String(step).padStart(6, '0')}.safetensors`;

const staging = `${to}.tmp-${process.pid}`;
fs.rmSync(staging, { recursive: true, force: true });
fs.mkdirSync(path.join(staging, 'checkpoints'), { recursive: true });
fs.mkdirSync(path.join(staging, 'figures'), { recursive: true });
for (const f of need) fs.copyFileSync(path.join(from, f), path.join(staging, f));
const left = [];
for (const f of fs.readdirSync(path.join(from, 'figures'))) {
  if (!f.endsWith('.svg')) continue;
  if (fs.statSync(path.join(from, 'figures', f)).size > 200e3) left.push(f);
  else fs.copyFileSync(path.join(from, 'figures', f), path.join(staging, 'figures', f));
}
for (const step of chosen) fs.copyFileSync(path.join(from, 'checkpoints', ckpt(step)), path.join(staging, 'checkpoints', ckpt(step)));

const bytes = (dir) => fs.readdirSync(dir, { withFileTypes: true }).reduce((n, e) => n + (e.isDirectory() ? bytes(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);
const total = bytes(staging);
if (total > 8e6) {
  fs.rmSync(staging, { recursive: true, force: true });
  console.error(`publish-run: ${(total / 1e6).toFixed(1)} MB is more than the 8 MB a committed run may take`);
  process.exit(1);
}
fs.rmSync(to, { recursive: true, force: true });
fs.mkdirSync(path.dirname(to), { recursive: true });
fs.renameSync(staging, to);
console.log(`publish-run: ${to}: ${(total / 1e6).toFixed(1)} MB; checkpoints at steps ${chosen.join(', ')}; left out (over 200 kB): ${left.join(', ') || 'nothing'}`);
