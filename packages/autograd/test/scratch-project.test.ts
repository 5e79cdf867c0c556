/**
 * A new user's view: `pnpm pack` @grok/tensor and @grok/autograd, `npm install` the two tarballs into an empty
 * project, and use them with plain `node` — through package.json `exports` and dist/, not the sources the
 * other tests use. The install must be light (gpu.js, with its native `gl` and `webgpu`, is an optional peer
 * dependency: not installed), the tarballs must hold no tests and no stale outputs, the autograd README's
 * example must run as written, a TypeScript user must type-check without gpu.js, and selecting the gpujs
 * backend without gpu.js must say what to install.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
// As a user's shell: without the NODE_PATH that `pnpm exec` sets (it reaches the workspace's hoisted packages).
const userEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_PATH'));
const run = (file: string, args: string[], options: { cwd?: string; timeout?: number } = {}) => exec(file, args, { ...options, env: userEnv });
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const packageDir = (name: string) => join(repoRoot, 'packages', name);

// A user's program: a linear classifier on four 2-D points, full batch, 60 AdamW steps.
const classifier = `
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

// The same user, in TypeScript, type-checked against the installed declarations (skipLibCheck off).
const typed = `
import { AdamW, type NDArray, Parameter, type StateDict, tensor } from '@grok/autograd';
import { setBackend, type GpuJsMode } from '@grok/tensor';
const p = new Parameter(tensor([1, 2, 3]));
const value: NDArray = p.value;
const state: StateDict = new AdamW([p]).stateDict();
const mode: GpuJsMode = 'webasm';
export const used = [value, state, mode, setBackend];
`;

/** The first ```ts block under the autograd README's "## Example" heading. */
function readmeExample(): string {
  const readme = readFileSync(join(packageDir('autograd'), 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Example'));
  return /```ts\n([\s\S]*?)```/.exec(section)![1]!;
}

function bytesUnder(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    n += e.isDirectory() ? bytesUnder(path) : statSync(path).size;
  }
  return n;
}

describe('a scratch project that installs the packed packages', () => {
  let dir = '';
  const tarballs: Record<string, string> = {};
  let installSeconds = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'grok-scratch-'));
    // pnpm pack runs each package's prepack (drop stale dist files, build), and turns workspace:* into a version.
    for (const name of ['tensor', 'autograd']) {
      await run('pnpm', ['pack', '--pack-destination', dir], { cwd: packageDir(name), timeout: 120_000 });
      tarballs[name] = join(dir, `grok-${name}-0.1.0.tgz`);
    }
    const project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
    const started = performance.now();
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarballs['tensor']!, tarballs['autograd']!], { cwd: project, timeout: 120_000 });
    installSeconds = (performance.now() - started) / 1000;
    writeFileSync(join(project, 'classifier.mjs'), classifier);
    writeFileSync(join(project, 'readme-example.mjs'), readmeExample());
    writeFileSync(join(project, 'typed.ts'), typed);
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const project = () => join(dir, 'project');

  it('installs fast and small: no gpu.js, gl or webgpu', () => {
    const modules = join(project(), 'node_modules');
    const installed = readdirSync(modules).filter((n) => !n.startsWith('.'));
    expect(installed).toEqual(['@grok']);
    const megabytes = bytesUnder(modules) / 1e6;
    console.log(`npm install of the two tarballs: ${installSeconds.toFixed(1)} s, node_modules ${megabytes.toFixed(2)} MB`);
    expect(installSeconds).toBeLessThan(30);
    expect(megabytes).toBeLessThan(10);
  });

  it('the tarballs hold dist built from the current src, the sources and the README: no tests, no leftovers', async () => {
    for (const [name, tarball] of Object.entries(tarballs)) {
      const { stdout } = await run('tar', ['tzf', tarball]);
      const files = stdout.trim().split('\n').map((f) => f.replace(/^package\//, ''));
      expect(files, name).toContain('package.json');
      expect(files, name).toContain('README.md');
      expect(files, name).toContain('dist/index.js');
      expect(files, name).toContain('dist/index.d.ts');
      expect(files.filter((f) => !/^(dist|src)\//.test(f) && f !== 'package.json' && f !== 'README.md'), name).toEqual([]);
      expect(files.filter((f) => /(^|\/)test\/|\.test\.|\.tsbuildinfo/.test(f)), name).toEqual([]);
      const sources = new Set(files.filter((f) => f.startsWith('src/')));
      const stale = files.filter((f) => f.startsWith('dist/') && !sources.has(f.replace(/^dist\//, 'src/').replace(/(\.d\.ts|\.js)(\.map)?$/, '.ts')));
      expect(stale, `${name}: dist files without a source`).toEqual([]);
    }
    const manifest = JSON.parse((await run('tar', ['xzf', tarballs['tensor']!, '-O', 'package/package.json'])).stdout) as Record<string, unknown>;
    expect(manifest['dependencies']).toBeUndefined();
    expect(manifest['peerDependencies']).toEqual({ 'gpu.js': '^2.24.1' });
    expect(manifest['peerDependenciesMeta']).toEqual({ 'gpu.js': { optional: true } });
    const autograd = JSON.parse((await run('tar', ['xzf', tarballs['autograd']!, '-O', 'package/package.json'])).stdout) as Record<string, unknown>;
    expect(autograd['dependencies']).toEqual({ '@grok/tensor': '0.1.0' });
  });

  it('imports tensor, AdamW and crossEntropy and trains with node', async () => {
    const { stdout } = await run(process.execPath, ['classifier.mjs'], { cwd: project(), timeout: 60_000 });
    const result = JSON.parse(stdout.trim()) as { first: number; last: number; gradDtype: string; lossDtype: string; wShape: string };
    expect(result.first).toBeCloseTo(Math.log(2), 0); // near-uniform predictions at the start
    expect(result.last).toBeLessThan(0.05 * result.first);
    expect(result.lossDtype).toBe('float64'); // cross-entropy's float64 loss
    expect(result.gradDtype).toBe('float32'); // reaching float32 weights
    expect(result.wShape).toBe('[2, 2]');
  });

  it("runs the autograd README's example as written", async () => {
    const { stdout } = await run(process.execPath, ['readme-example.mjs'], { cwd: project(), timeout: 60_000 });
    const [w, b] = stdout.trim().split(/\s+/).map(Number);
    expect(w).toBeCloseTo(3, 4);
    expect(b).toBeCloseTo(1, 4);
  });

  it('type-checks a TypeScript user against the installed declarations, without gpu.js', async () => {
    const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
    const options = ['--noEmit', '--strict', '--skipLibCheck', 'false', '--module', 'nodenext', '--target', 'es2022'];
    // @types/node from the workspace: the declarations use Node's types (worker threads), as most projects have.
    const types = ['--typeRoots', join(repoRoot, 'node_modules', '@types'), '--types', 'node'];
    await run(process.execPath, [tsc, ...options, ...types, 'typed.ts'], { cwd: project(), timeout: 120_000 });
  });

  it('selecting the gpujs backend without gpu.js says what to install', async () => {
    const script = `import { setBackend } from '@grok/tensor';
try { setBackend('gpujs', { mode: 'webasm' }); console.log('no error'); } catch (e) { console.log(e.message); }`;
    writeFileSync(join(project(), 'gpujs.mjs'), script);
    const { stdout } = await run(process.execPath, ['gpujs.mjs'], { cwd: project(), timeout: 60_000 });
    expect(stdout).toMatch(/the 'gpu\.js' package is not installed \(it is an optional peer dependency of @grok\/tensor\)/);
    expect(stdout).toContain('npm install gpu.js@2.24.1');
  });
});
