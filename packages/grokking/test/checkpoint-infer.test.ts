/**
 * `analyze --checkpoint FILE` and `eval FILE` on a bare safetensors file: TransformerLens names, no metadata at
 * all (as one converted from PyTorch). The config is read off the tensors; the findings equal those of the same
 * weights in our own checkpoint (with its metadata); options are checked against the shapes; errors name the
 * tensor and the shapes.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type NDArray, raw } from '@grok/autograd';
import { HookedTransformer, loadCheckpoint, paperConfig } from '@grok/transformer';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../src/args.js';
import { runAnalyze } from '../src/analysis/cli-analyze.js';
import { analyzeCheckpointFile, analyzeRunStep } from '../src/analysis/run-analysis.js';
import type { CheckpointFileFindings } from '../src/analysis/types.js';
import { evalCheckpoint, runEval } from '../src/cli-eval.js';
import { resolveConfig } from '../src/config.js';
import { makeBatch } from '../src/data.js';
import { buildModel } from '../src/model.js';
import { openCheckpoint } from '../src/open-checkpoint.js';
import { Progress } from '../src/progress.js';
import { RunDir } from '../src/run-dir.js';
import { train } from '../src/train.js';

const silent = new Progress({ isTTY: false, write: () => true } as unknown as NodeJS.WriteStream, Infinity);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'grok-ckpt-infer-'));
const dir = path.join(root, 'run');
const p = 11;
// The paper's split fraction and seed, so that the bare file's default split is the run's own.
const config = resolveConfig({ p, frac_train: 0.3, seed: 0, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, lr: 0.01, steps: 200, checkpoint_every: 100, log_every: 100 });
const at = (name: string) => path.join(root, name);
let ours: string; // our checkpoint at step 200, with metadata
const bare = at('bare.safetensors');

/**
 * Writes a safetensors file by hand from the format's spec, with no __metadata__: the 8-byte header length,
 * the JSON header, then the tensors' bytes, in name order (as Python's safetensors writes them).
 */
function writeBare(file: string, tensors: Record<string, NDArray>): void {
  const header: Record<string, unknown> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!;
    const bytes = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    header[name] = { dtype: t.dtype === 'float64' ? 'F64' : 'F32', shape: [...t.shape], data_offsets: [offset, offset + bytes.length] };
    parts.push(bytes);
    offset += bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(file, Buffer.concat([length, json, ...parts]));
}

/** The bare file's tensors with one replaced (or removed, for undefined), written to `name`. */
function variant(name: string, tensor: string, t: NDArray | undefined): string {
  const tensors = { ...loadCheckpoint(bare).tensors };
  if (t === undefined) delete tensors[tensor];
  else tensors[tensor] = t;
  writeBare(at(name), tensors);
  return at(name);
}

/** Runs `pnpm grok …` in-process (cli.ts's code path); returns stdout and stderr. */
function cli(argv: string[]): { stdout: string; stderr: string } {
  const out: string[] = [];
  const err: string[] = [];
  const [write, writeErr] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const args = parseCommandLine(argv);
    if (args.command === 'eval') runEval(args);
    else runAnalyze(args);
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
  return { stdout: out.join(''), stderr: err.join('') };
}
const lastJson = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1)!);

beforeAll(() => {
  train({ dir, config, progress: silent, handleSignals: false });
  ours = new RunDir(dir).checkpointPath(200);
  const ckpt = loadCheckpoint(ours);
  expect(Object.keys(ckpt.metadata)).toContain('config'); // ours has metadata; the bare copy has none
  writeBare(bare, ckpt.tensors);
}, 120_000);

describe('a bare safetensors file (TransformerLens names, no metadata)', () => {
  it('has no metadata, and its config read off the tensors is the model config of the run', () => {
    const n = Number(fs.readFileSync(bare).readBigUInt64LE(0));
    expect(JSON.parse(fs.readFileSync(bare).subarray(8, 8 + n).toString('utf8'))).not.toHaveProperty('__metadata__');
    const json = lastJson(cli(['analyze', '--checkpoint', bare, '--json']).stdout) as CheckpointFileFindings;
    expect(json.config).toEqual(buildModel(config).cfg);
    expect(json.config).toMatchObject({ n_layers: 1, d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, d_vocab: 12, d_vocab_out: 11, n_ctx: 3 });
  });

  it('analyze --checkpoint --json: the findings of our checkpoint of the same weights; step null; the default split', () => {
    const { stdout, stderr } = cli(['analyze', '--checkpoint', bare, '--json']);
    expect(stdout.trim().split('\n')).toHaveLength(1); // one JSON object, nothing else on stdout
    const json = lastJson(stdout) as CheckpointFileFindings;
    for (const key of ['keyFrequencies', 'neuronsClustered', 'restrictedLoss', 'excludedLoss', 'loss', 'step', 'config', 'split']) {
      expect(json).toHaveProperty(key);
    }
    expect(json.step).toBeNull();
    expect(json.p).toBe(p);
    expect(json.split).toEqual({
      from: expect.stringMatching(/^the default split for p = 11 \(no run config in the metadata\): frac_train 0\.3, seed 0/),
      trainPairs: 36, // ⌊0.3 · 121⌋
      testPairs: 85,
    });
    expect(stderr).toMatch(/model config read off the tensors \(no config in the metadata\): n_layers 1, d_model 16/);
    expect(stderr).toMatch(/pass it with --split FILE \(the paper's: \.\.\/shared\/reference\/original_split_p113_seed0\.json\)/);

    // The run's own path (its config.json, loadModelFromCheckpoint) on our checkpoint of the same weights.
    const reference = JSON.parse(JSON.stringify(analyzeRunStep(dir, 200)));
    const { checkpoint: _file, step: _step, config: _config, split: _split, ...findings } = json;
    const { checkpoint: _file2, step, ...expected } = reference;
    expect(step).toBe(200);
    expect(findings).toEqual(expected);
    expect(json.keyFrequencies.length).toBeGreaterThan(0); // a comparison with something in it

    // `loss` is the all-pairs loss: what eval computes by its own path (evaluate.ts).
    const scores = evalCheckpoint(bare);
    expect(json.loss).toBeCloseTo(scores.all.loss, 6);
    expect(json.trainLoss).toBeCloseTo(scores.train.loss, 6);
  });

  it('eval opens it too: the same scores as our checkpoint, step null', () => {
    const a = evalCheckpoint(bare);
    const b = evalCheckpoint(ours);
    expect(a.step).toBeNull();
    expect(b.step).toBe(200);
    for (const part of ['train', 'test', 'all'] as const) expect(a[part]).toEqual(b[part]);
    expect(a.config).toEqual(b.config);
    const r = lastJson(cli(['eval', bare, '--json']).stdout);
    expect(r.step).toBeNull();
    expect(r.all.loss).toBe(a.all.loss);
  });

  it('--split FILE replaces the default split', () => {
    const split = at('split.json');
    const train = Array.from({ length: 40 }, (_, k) => [Math.floor(k / p), k % p]); // the first 40 pairs
    fs.writeFileSync(split, JSON.stringify({ p, train }));
    const f = analyzeCheckpointFile(bare, { split });
    expect(f.split).toEqual({ from: `--split ${split}`, trainPairs: 40, testPairs: 81 });
    expect(f.trainLoss).toBeCloseTo(evalCheckpoint(bare, { split }).train.loss, 6);
    expect(f.trainLoss).not.toBeCloseTo(analyzeCheckpointFile(bare).trainLoss, 6);
  });

  it('model options: those that agree are accepted, act_fn is taken, the others are refused by name', () => {
    const agree = ['--p', '11', '--d-model', '16', '--n-heads', '2', '--d-head', '8', '--d-mlp', '32', '--n-layers', '1', '--no-attn-only'];
    const base = analyzeCheckpointFile(bare);
    const same = lastJson(cli(['analyze', '--checkpoint', bare, '--json', ...agree]).stdout) as CheckpointFileFindings;
    expect(same.loss).toBe(base.loss);
    const gelu = analyzeCheckpointFile(bare, { model: { act_fn: 'gelu' } });
    expect(gelu.config.act_fn).toBe('gelu');
    expect(gelu.loss).not.toBe(base.loss); // the same weights through another activation
    expect(() => cli(['analyze', '--checkpoint', bare, '--lr', '0.1', '--steps', '5'])).toThrow(
      /analyze --checkpoint: --lr, --steps do not apply to a checkpoint file: only --split FILE and the model's --p, --d-model, --n-heads, --d-head, --d-mlp, --n-layers, --act-fn, --attn-only do/,
    );
    expect(() => cli(['eval', bare, '--seed', '3'])).toThrow(/eval: --seed does not apply to a checkpoint file/);
    // our checkpoint's metadata says relu: an option must not contradict it
    expect(() => analyzeCheckpointFile(ours, { model: { act_fn: 'gelu' } })).toThrow(/--act-fn "gelu" contradicts the config in .*step-000200\.safetensors's metadata \(act_fn "relu"\)/);
  });

  it('the original layout, with p + 1 output classes (it also scores "="): p = d_vocab − 1', () => {
    const model = new HookedTransformer(paperConfig(p, { d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, d_vocab_out: p + 1 }));
    const file = at('p-plus-one.safetensors');
    writeBare(file, model.stateDict());
    const f = analyzeCheckpointFile(file);
    expect(f.p).toBe(11);
    expect(f.config.d_vocab_out).toBe(12);
    expect(f.split.trainPairs).toBe(36);
  });
});

describe('a model converted from the original PyTorch layout (fixtures/make_original_conversion.py, the README\'s code)', () => {
  const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const file = fixture('original-layout-p7.safetensors');

  it('opens with no options, and our logits are the original forward pass\'s (so every transpose is right)', () => {
    const { model, config, p: modulus, step } = openCheckpoint(file);
    expect(config).toMatchObject({
      n_layers: 1, d_model: 8, n_heads: 2, d_head: 4, d_mlp: 16, d_vocab: 8, d_vocab_out: 8, n_ctx: 3,
      attn_only: false, attn_bias: false, unembed_bias: false, normalization_type: null, act_fn: 'relu',
    });
    expect(modulus).toBe(7);
    expect(step).toBeNull();
    const torch = JSON.parse(fs.readFileSync(fixture('original-layout-p7-logits.json'), 'utf8')) as { p: number; logits: number[][] };
    const ours = model.run(makeBatch(7).tokens, { lastPositionOnly: true }); // [p², p + 1], row a·p + b
    expect(ours.shape).toEqual([49, 8]);
    let worst = 0;
    torch.logits.flat().forEach((x, i) => (worst = Math.max(worst, Math.abs(x - ours.data[i]!))));
    expect(worst).toBeLessThan(1e-5); // float32 against torch's float64 forward of the same weights
    expect(Math.max(...torch.logits.flat().map(Math.abs))).toBeGreaterThan(0.5); // logits that say something
    expect(analyzeCheckpointFile(file).p).toBe(7);
  });

  it('the README shows the same conversion, line for line', () => {
    const readme = fs.readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    const script = fs.readFileSync(fixture('make_original_conversion.py'), 'utf8');
    const block = (text: string) => text.slice(text.indexOf('def convert(sd):'), text.indexOf('return {k: v.detach()'));
    const lines = (text: string) => block(text).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('"""'));
    expect(lines(readme).length).toBeGreaterThan(10);
    expect(lines(readme)).toEqual(lines(script));
  });
});

describe('what cannot be opened says why, naming the tensor and the shapes', () => {
  it('a missing tensor', () => {
    const file = variant('no-wu.safetensors', 'unembed.W_U', undefined);
    expect(() => analyzeCheckpointFile(file)).toThrow(/^analyze: model config from .*no-wu\.safetensors: tensor 'unembed\.W_U' \[d_model, d_vocab_out\] is missing/);
    expect(() => evalCheckpoint(file)).toThrow(/^eval: model config from .*no-wu\.safetensors: tensor 'unembed\.W_U'/);
  });

  it('W_in and W_out disagreeing on d_mlp', () => {
    const file = variant('bad-wout.safetensors', 'blocks.0.mlp.W_out', raw.zeros([24, 16]));
    expect(() => analyzeCheckpointFile(file)).toThrow(
      'blocks.0.mlp.W_out [24, 16] is [d_mlp, d_model], so d_mlp = 24, but blocks.0.mlp.W_in [16, 32] has d_mlp = 32',
    );
  });

  it('--d-mlp contradicting the shapes', () => {
    expect(() => cli(['analyze', '--checkpoint', bare, '--d-mlp', '64'])).toThrow(
      /--d-mlp 64 contradicts the tensors: blocks\.0\.mlp\.W_in \[16, 32\] has d_mlp = 32/,
    );
    expect(() => cli(['eval', bare, '--attn-only'])).toThrow(/--attn-only true contradicts the tensors: blocks\.0 has MLP weights/);
  });

  it('p inconsistent with d_vocab, and an unembedding with neither p nor p + 1 classes', () => {
    expect(() => cli(['analyze', '--checkpoint', bare, '--p', '13'])).toThrow(
      /bare\.safetensors: --p 13 contradicts the tensors: embed\.W_E is \[12, 16\]: d_vocab 12 = p \+ 1 \(the numbers and '='\) makes p = 11/,
    );
    const file = variant('nine-classes.safetensors', 'unembed.W_U', raw.zeros([16, 9]));
    expect(() => analyzeCheckpointFile(file)).toThrow(/unembed\.W_U is \[16, 9\]: 9 output classes, but embed\.W_E is \[12, 16\]: .* makes p = 11; a model of a \+ b mod p has p classes \(or p \+ 1/);
    const vocab = new HookedTransformer(paperConfig(p, { d_model: 16, n_heads: 2, d_head: 8, d_mlp: 32, d_vocab: 10, d_vocab_out: 9 }));
    writeBare(at('nine.safetensors'), vocab.stateDict());
    expect(() => analyzeCheckpointFile(at('nine.safetensors'))).toThrow(/d_vocab 10 = p \+ 1 .* makes p = 9, which is not prime/);
  });

  it('a split for another p', () => {
    const split = at('split-13.json');
    fs.writeFileSync(split, JSON.stringify({ p: 13, train: [[0, 1]] }));
    expect(() => analyzeCheckpointFile(bare, { split })).toThrow(/its p is 13 but .*bare\.safetensors is a model for p = 11/);
  });
});

describe('the built CLI, as a process', () => {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  const grok = (args: string[]) =>
    spawnSync(process.execPath, [path.join(repo, 'packages/grokking/dist/cli.js'), ...args], { encoding: 'utf8', timeout: 120_000 });

  beforeAll(() => {
    const r = spawnSync('pnpm', ['exec', 'tsc', '-b'], { cwd: repo, encoding: 'utf8', timeout: 180_000 });
    if (r.status !== 0) throw new Error(`tsc -b failed: ${r.stdout}${r.stderr}`);
  }, 200_000);

  it('analyze --checkpoint BARE --json: exit 0, the JSON object alone on stdout, notes on stderr', () => {
    const r = grok(['analyze', '--checkpoint', bare, '--json']);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]!) as CheckpointFileFindings;
    expect(json.step).toBeNull();
    expect(json.config.d_mlp).toBe(32);
    // (the CLI turns on relaxed SIMD, whose fused multiply-adds round float32 a little differently)
    expect(json.loss).toBeCloseTo(analyzeCheckpointFile(bare).loss, 5);
    expect(r.stderr).toMatch(/analyze: split: the default split for p = 11/);
    expect(grok(['analyze', '--checkpoint', bare, '--json', '--quiet']).stderr).toBe('');
  });

  it('eval BARE --json: exit 0, last line JSON; a broken file: exit 2 and the reason on stderr', () => {
    const r = grok(['eval', bare, '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).test.loss).toBeCloseTo(evalCheckpoint(bare).test.loss, 5);
    const broken = grok(['analyze', '--checkpoint', variant('no-wu-2.safetensors', 'unembed.W_U', undefined), '--json']);
    expect(broken.status).toBe(2);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^grok: analyze: model config from .*no-wu-2\.safetensors: tensor 'unembed\.W_U' \[d_model, d_vocab_out\] is missing/);
  });
});

