/**
 * A user's view of the BUILT package: a fresh project outside the workspace that depends on @grok/autograd
 * (and @grok/tensor) through node_modules, imports `tensor`, `AdamW` and `crossEntropy` by name, and trains a
 * tiny classifier with plain `node`. This goes through package.json `exports` and dist/, not the sources
 * that the other tests use.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const packageDir = (name: string) => join(repoRoot, 'packages', name);

// The user's program: a linear classifier on four 2-D points, full batch, 60 AdamW steps.
const program = `
import { tensor, AdamW, crossEntropy } from '@grok/autograd';
import { formatShape } from '@grok/tensor';

const x = tensor([[1, 2], [2, 1], [-1, -2], [-2, -1]]);
const y = tensor([0, 0, 1, 1], { dtype: 'int32' });
const w = tensor([[0.1, -0.1], [0.2, 0.0]], { requiresGrad: true });
const b = tensor([0, 0], { requiresGrad: true });
const opt = new AdamW([w, b], { lr: 0.1, weightDecay: 0 });

const losses = [];
let gradDtype = '';
let lossDtype = '';
for (let step = 0; step < 60; step++) {
  opt.zeroGrad();
  const loss = crossEntropy(x.matmul(w).add(b), y);
  loss.backward();
  if (step === 0) { gradDtype = w.grad.dtype; lossDtype = loss.dtype; }
  losses.push(loss.item());
  opt.step();
}
console.log(JSON.stringify({ first: losses[0], last: losses.at(-1), gradDtype, lossDtype, wShape: formatShape(w.shape) }));
`;

describe('a scratch project that depends on the built package', () => {
  let dir = '';

  beforeAll(async () => {
    // Build only @grok/autograd and what it references (@grok/tensor): other packages may be mid-edit.
    await run('pnpm', ['exec', 'tsc', '-b', 'packages/autograd'], { cwd: repoRoot, timeout: 120_000 });
    dir = mkdtempSync(join(tmpdir(), 'grok-scratch-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    mkdirSync(join(dir, 'node_modules', '@grok'), { recursive: true });
    symlinkSync(packageDir('autograd'), join(dir, 'node_modules', '@grok', 'autograd'), 'dir');
    symlinkSync(packageDir('tensor'), join(dir, 'node_modules', '@grok', 'tensor'), 'dir');
    writeFileSync(join(dir, 'index.mjs'), program);
  }, 130_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('imports tensor, AdamW and crossEntropy and trains with node', async () => {
    const { stdout } = await run(process.execPath, ['index.mjs'], { cwd: dir, timeout: 60_000 });
    const result = JSON.parse(stdout.trim()) as { first: number; last: number; gradDtype: string; lossDtype: string; wShape: string };
    expect(result.first).toBeCloseTo(Math.log(2), 0); // near-uniform predictions at the start
    expect(result.last).toBeLessThan(0.05 * result.first);
    expect(result.lossDtype).toBe('float64'); // cross-entropy's float64 loss
    expect(result.gradDtype).toBe('float32'); // reaching float32 weights
    expect(result.wShape).toBe('[2, 2]');
  });
});
