import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NDArray, Tensor, raw } from '@grok/autograd';
import {
  HookedTransformer, loadCheckpoint, loadCheckpointInto, loadModelFromCheckpoint, paperConfig, parseSafetensors,
  saveCheckpoint, serializeSafetensors,
} from '@grok/transformer';
import { maxAbsDiff, randomTokens, tinyModel } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'grok-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const bytesOf = (t: NDArray | Tensor) => Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);

/** An independent minimal reader: the format from its spec, with a DataView and nothing of ours. */
function minimalRead(file: string) {
  const buf = readFileSync(file);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const start = 8 + n;
  const out: Record<string, { dtype: string; shape: number[]; values: number[] }> = {};
  for (const [name, e] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue;
    const [b, end] = e.data_offsets;
    const size = e.dtype === 'F64' ? 8 : 4;
    const values: number[] = [];
    for (let at = start + b; at < start + end; at += size) {
      values.push(e.dtype === 'F64' ? view.getFloat64(at, true) : e.dtype === 'F32' ? view.getFloat32(at, true) : view.getInt32(at, true));
    }
    out[name] = { dtype: e.dtype, shape: e.shape, values };
  }
  return { n, header, tensors: out, size: buf.byteLength };
}

describe('checkpoints', () => {
  it('round-trip parameters, optimizer state and metadata bit for bit (float32, float64, int32)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      const model = new HookedTransformer(paperConfig(113, { dtype, seed: 4 }));
      const W_E = model.embed.W_E.value;
      const optimizer = {
        step: 17,
        lr: 1e-3,
        betas: [0.9, 0.98],
        amsgrad: false,
        note: null,
        best: -Infinity,
        state: new Map([
          ['embed.W_E', { exp_avg: raw.mul(W_E, 0.5), exp_avg_sq: new Tensor(raw.square(W_E)) }],
        ]),
        counts: raw.tensor([1, -2, 2147483647], { dtype: 'int32' }),
      };
      const path = join(dir, `paper-${dtype}.safetensors`);
      saveCheckpoint(path, model, { step: 1200, optimizer, extra: { dataSeed: 0, trainLoss: 1e-7 } });
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]); // the temp file was renamed

      const ckpt = loadCheckpoint(path);
      expect(ckpt.step).toBe(1200);
      expect(ckpt.config).toEqual(model.cfg);
      expect(ckpt.extra).toEqual({ dataSeed: 0, trainLoss: 1e-7 });
      expect(Object.keys(ckpt.tensors)).toEqual([...model.namedParameters()].map(([n]) => n));
      for (const [name, p] of model.namedParameters()) {
        const t = ckpt.tensors[name]!;
        expect(t.dtype).toBe(dtype);
        expect(bytesOf(t).equals(bytesOf(p)), name).toBe(true);
      }
      const opt = ckpt.optimizer as any;
      expect(opt.step).toBe(17);
      expect(opt.betas).toEqual([0.9, 0.98]);
      expect(opt.best).toBe(-Infinity);
      expect(opt.note).toBeNull();
      const s = opt.state.get('embed.W_E');
      expect(bytesOf(s.exp_avg).equals(bytesOf(optimizer.state.get('embed.W_E')!.exp_avg))).toBe(true);
      expect(bytesOf(s.exp_avg_sq).equals(bytesOf(optimizer.state.get('embed.W_E')!.exp_avg_sq))).toBe(true);
      expect(opt.counts.dtype).toBe('int32');
      expect([...opt.counts.data]).toEqual([1, -2, 2147483647]);

      // A fresh model from the file computes exactly the same logits.
      const { model: loaded } = loadModelFromCheckpoint(path);
      const tokens = new Tensor(raw.tensor([[3, 4, 113], [100, 7, 113]], { dtype: 'int32' }));
      expect(maxAbsDiff(loaded.run(tokens), model.run(tokens))).toBe(0);
    }
  });

  it('writes the safetensors layout exactly (checked by an independent reader)', () => {
    const model = tinyModel({ dtype: 'float32' });
    const path = join(dir, 'tiny.safetensors');
    saveCheckpoint(path, model, { step: 3, optimizer: { ids: raw.tensor([5, 6], { dtype: 'int32' }) } });
    const { n, header, tensors, size } = minimalRead(path);
    expect((8 + n) % 8).toBe(0);
    const meta = header.__metadata__;
    expect(Object.values(meta).every((v) => typeof v === 'string')).toBe(true);
    expect(meta.step).toBe('3');
    expect(JSON.parse(meta.config).d_model).toBe(8);
    // Tensors are contiguous, in header order, and fill the data part.
    let cursor = 0;
    for (const [name, e] of Object.entries<any>(header)) {
      if (name === '__metadata__') continue;
      expect(e.data_offsets[0], name).toBe(cursor);
      cursor = e.data_offsets[1];
    }
    expect(8 + n + cursor).toBe(size);
    expect(tensors['blocks.0.attn.W_Q']!.shape).toEqual([2, 8, 4]);
    expect(tensors['blocks.0.attn.W_Q']!.values).toEqual([...model.blocks.items[0]!.attn.W_Q.data]);
    expect(tensors['optimizer.ids']).toEqual({ dtype: 'I32', shape: [2], values: [5, 6] });
  });

  it('is readable by Python with numpy (struct + json only), when python3 and numpy are installed', () => {
    let hasNumpy = false;
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
      hasNumpy = true;
    } catch {
      /* no python3 or numpy here */
    }
    if (!hasNumpy) return;
    const model = tinyModel({ dtype: 'float64' });
    const path = join(dir, 'py.safetensors');
    saveCheckpoint(path, model, { step: 9 });
    const script = `
import json, struct, sys, numpy as np
raw = open(sys.argv[1], 'rb').read()
(n,) = struct.unpack('<Q', raw[:8])
header = json.loads(raw[8:8 + n])
meta = header.pop('__metadata__')
kinds = {'F32': '<f4', 'F64': '<f8', 'I32': '<i4'}
out = {}
for name, e in header.items():
    b, end = e['data_offsets']
    out[name] = np.frombuffer(raw[8 + n + b: 8 + n + end], dtype=kinds[e['dtype']]).reshape(e['shape'])
print(json.dumps({'step': meta['step'], 'W_U': out['unembed.W_U'].tolist(), 'shapes': {k: list(v.shape) for k, v in out.items()}}))
`;
    const got = JSON.parse(execFileSync('python3', ['-c', script, path]).toString());
    expect(got.step).toBe('9');
    expect(got.W_U).toEqual(model.unembed.W_U.toArray());
    expect(got.shapes['blocks.0.attn.W_O']).toEqual([2, 4, 8]);
  });

  it('rejects a checkpoint whose shapes or names do not fit the model, naming the file and tensor', () => {
    const path = join(dir, 'small.safetensors');
    saveCheckpoint(path, tinyModel(), { step: 0 });
    expect(() => loadCheckpointInto(tinyModel({ d_head: 8 }), path)).toThrow(
      new RegExp(`${path}.*blocks\\.0\\.attn\\.W_Q has shape \\[2, 8, 4\\], the model expects \\[2, 8, 8\\]`),
    );
    expect(() => loadCheckpointInto(tinyModel({ attn_bias: true }), path)).toThrow(
      new RegExp(`${path}.*missing blocks\\.0\\.attn\\.b_Q`),
    );
    expect(() => loadCheckpointInto(tinyModel({ dtype: 'float32' }), path)).toThrow(/embed\.W_E has dtype float64, the model expects float32/);
    // A failed load leaves the model untouched; strict: false skips missing names.
    const m = tinyModel({ attn_bias: true, seed: 99 });
    const before = m.embed.W_E.data.slice();
    expect(() => loadCheckpointInto(m, path)).toThrow();
    expect(m.embed.W_E.data).toEqual(before);
    loadCheckpointInto(m, path, { strict: false });
    expect(m.embed.W_E.data).toEqual(tinyModel().embed.W_E.data);
  });
});

describe('malformed safetensors files', () => {
  const good = serializeSafetensors(
    [
      ['a', raw.tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'float32' })],
      ['b', raw.tensor([5, 6], { dtype: 'float64' })],
    ],
    { step: '1' },
  );
  const n = Number(new DataView(good.buffer).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(good.subarray(8, 8 + n)).toString());
  const data = good.subarray(8 + n);

  /** A file with this header object and these data bytes. */
  const withHeader = (h: unknown, body: Uint8Array = data, rawJson?: string) => {
    const json = Buffer.from(rawJson ?? JSON.stringify(h));
    const out = new Uint8Array(8 + json.length + body.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
    out.set(json, 8);
    out.set(body, 8 + json.length);
    return out;
  };
  const edit = (f: (h: any) => void) => {
    const h = structuredClone(header);
    f(h);
    return withHeader(h);
  };

  it('accepts the good file', () => {
    const { tensors, metadata } = parseSafetensors(good);
    expect([...tensors.keys()]).toEqual(['a', 'b']);
    expect(metadata).toEqual({ step: '1' });
    expect([...tensors.get('b')!.data]).toEqual([5, 6]);
  });

  it.each<[string, () => Uint8Array, RegExp]>([
    ['empty file', () => new Uint8Array(0), /truncated: 0 bytes/],
    ['cut inside the header length', () => good.subarray(0, 5), /truncated: 5 bytes/],
    ['header length beyond the file', () => good.subarray(0, 8 + n - 3), /header length \d+ runs past the end/],
    ['huge header length', () => { const b = good.slice(); new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true); return b; }, /exceeds/],
    ['truncated data', () => good.subarray(0, good.length - 4), /tensor 'b'.*run past the end of the data/],
    ['bad JSON', () => withHeader(null, data, '{"a": {"dtype": "F32",'), /not valid JSON/],
    ['header not an object', () => withHeader([1, 2]), /must be a JSON object/],
    ['unknown dtype', () => edit((h) => (h.a.dtype = 'F33')), /tensor 'a': unknown dtype 'F33'/],
    ['unsupported dtype', () => edit((h) => (h.b.dtype = 'I64')), /tensor 'b': dtype I64 is not supported/],
    ['shape disagrees with offsets', () => edit((h) => (h.a.shape = [2, 3])), /tensor 'a'.*shape \[2, 3\] of F32 needs 24/],
    ['negative shape', () => edit((h) => (h.a.shape = [-2, -2])), /tensor 'a': shape must be/],
    ['offsets out of range', () => edit((h) => { h.b.data_offsets = [16, 40]; h.b.shape = [3]; }), /tensor 'b'.*run past the end/],
    ['overlapping offsets', () => edit((h) => { h.b.data_offsets = [8, 24]; }), /tensor 'b'.*overlap/],
    ['offsets end before begin', () => edit((h) => { h.b.data_offsets = [24, 8]; }), /tensor 'b'.*end before they begin/],
    ['gap between tensors', () => withHeader({ ...header, b: { ...header.b, data_offsets: [24, 40] } }, new Uint8Array(40)), /tensor 'b'.*gap/],
    ['trailing bytes', () => withHeader(header, new Uint8Array(40)), /8 bytes after the last tensor/],
    ['missing data_offsets', () => edit((h) => delete h.a.data_offsets), /tensor 'a': data_offsets must be/],
    ['non-string metadata', () => edit((h) => (h.__metadata__.step = 1)), /__metadata__ value 'step' must be a string/],
  ])('rejects: %s', (_, make, message) => {
    const file = join(dir, 'bad.safetensors');
    writeFileSync(file, make());
    expect(() => loadCheckpoint(file)).toThrow(message);
    expect(() => loadCheckpoint(file)).toThrow(file); // the error names the file
  });

  it('names the file and the tensor when a checkpoint lacks a parameter or has bad metadata', () => {
    const model = tinyModel();
    const tensors = [...model.namedParameters()].filter(([n]) => n !== 'blocks.0.mlp.b_in').map(([n, p]) => [n, p.value] as [string, NDArray]);
    const file = join(dir, 'missing.safetensors');
    writeFileSync(file, serializeSafetensors(tensors, { step: '5', config: JSON.stringify(model.cfg) }));
    expect(() => loadModelFromCheckpoint(file)).toThrow(new RegExp(`${file}.*missing blocks\\.0\\.mlp\\.b_in`));
    writeFileSync(file, serializeSafetensors(tensors, { step: 'five' }));
    expect(() => loadCheckpoint(file)).toThrow(/metadata 'step' must be a non-negative integer/);
    writeFileSync(file, serializeSafetensors(tensors, { config: '{oops' }));
    expect(() => loadCheckpoint(file)).toThrow(/metadata 'config' is not valid JSON/);
    expect(() => loadCheckpoint(join(dir, 'nope.safetensors'))).toThrow(/nope\.safetensors\): cannot read/);
  });
});

it('the model runs after loading (sanity of the loaded values)', () => {
  const model = tinyModel();
  const path = join(dir, 'again.safetensors');
  saveCheckpoint(path, model, { step: 1 });
  const copy = tinyModel({ seed: 123 });
  loadCheckpointInto(copy, path);
  const tokens = randomTokens(2, 3, 7);
  expect(maxAbsDiff(copy.run(tokens), model.run(tokens))).toBe(0);
});
