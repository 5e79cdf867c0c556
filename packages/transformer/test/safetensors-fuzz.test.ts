/**
 * Property-based tests of the safetensors reader against broken and hostile files (fast-check): random bytes,
 * truncations, header lengths past the file or near 2⁶⁴, overlapping and out-of-order offsets, dtype/shape
 * mismatches, invalid UTF-8, deeply nested JSON, and broken checkpoint metadata. Every file must either
 * parse into exactly the bytes it holds, or fail with a plain Error whose message names the file: no other
 * exception (a stack overflow, a TypeError from a bad cast), no hang, and no allocation beyond the file's size.
 *
 * fast-check picks a new seed on every run; a failure prints the seed and path that replay it
 * (fc.assert(…, { seed, path })).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { type DType, raw } from '@grok/autograd';
import { loadCheckpoint, parseSafetensors } from '@grok/transformer';

const FILE = '/fuzz/case.safetensors';
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };
const CODE: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
let cases = 0; // every case of every property, reported at the end

const dir = mkdtempSync(join(tmpdir(), 'grok-fuzz-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(`safetensors fuzz: ${cases} cases`);
});

/**
 * Runs the reader on one file and checks the contract: it returns tensors whose bytes are no more than the
 * file holds, or throws an Error naming the file; it takes well under a second; and memory held in
 * ArrayBuffers grows by no more than the file's size (plus slack for Node's own buffer pool).
 */
function check(bytes: Uint8Array, read: () => ReturnType<typeof parseSafetensors>['tensors'] | void, name = FILE): 'ok' | string {
  cases++;
  const before = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let outcome: 'ok' | string = 'ok';
  let tensors: ReturnType<typeof parseSafetensors>['tensors'] | void = undefined;
  try {
    tensors = read();
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).constructor, (e as Error).stack).toBe(Error); // not a RangeError, TypeError, …
    expect((e as Error).message).toContain(name);
    expect((e as Error).message.length).toBeLessThan(600); // a short message, however long the header
    outcome = (e as Error).message;
  }
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThanOrEqual(bytes.byteLength + (1 << 20));
  if (tensors) {
    let total = 0;
    for (const t of tensors.values()) total += t.data.byteLength;
    expect(total).toBeLessThanOrEqual(bytes.byteLength);
  }
  return outcome;
}
const parse = (bytes: Uint8Array) => check(bytes, () => parseSafetensors(bytes, FILE).tensors);

/** A file from a header (object or raw JSON text) and data, with the header length field optionally forged. */
function assemble(header: unknown, data: Uint8Array, lengthField?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header), 'utf8');
  return assembleRaw(json, data, lengthField);
}
function assembleRaw(json: Uint8Array, data: Uint8Array, lengthField?: bigint): Uint8Array {
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, lengthField ?? BigInt(json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

interface Spec {
  name: string;
  dtype: DType;
  shape: number[];
  bytes: Uint8Array;
}

/** A valid set of tensors: unique names, shapes up to rank 3, random bytes (NaN payloads included). */
const specs: fc.Arbitrary<Spec[]> = fc
  .uniqueArray(
    fc.record({
      name: fc.string({ minLength: 1, maxLength: 12 }).filter((n) => n !== '__metadata__'),
      dtype: fc.constantFrom<DType>('float32', 'float64', 'int32'),
      shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
      seed: fc.integer(),
    }),
    { selector: (s) => s.name, minLength: 1, maxLength: 5 },
  )
  .map((list) =>
    list.map(({ name, dtype, shape, seed }) => {
      const bytes = new Uint8Array(shape.reduce((a, b) => a * b, 1) * BYTES[dtype]);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (seed * 31 + i * 2654435761) >>> 24;
      return { name, dtype, shape, bytes };
    }),
  );

/** Header and data with the tensors' bytes laid out in `order` (a permutation: out of header order). */
function layout(list: Spec[], order: number[] = list.map((_, i) => i)) {
  const offsets = new Map<number, [number, number]>();
  const data = new Uint8Array(list.reduce((a, s) => a + s.bytes.length, 0));
  let at = 0;
  for (const i of order) {
    data.set(list[i]!.bytes, at);
    offsets.set(i, [at, at + list[i]!.bytes.length]);
    at += list[i]!.bytes.length;
  }
  // Null prototype: a tensor named '__proto__' must be an entry, not the object's prototype.
  const header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }> = Object.create(null);
  list.forEach((s, i) => (header[s.name] = { dtype: CODE[s.dtype], shape: s.shape, data_offsets: offsets.get(i)! }));
  return { header, data };
}

function expectSame(bytes: Uint8Array, list: Spec[]): void {
  const { tensors } = parseSafetensors(bytes, FILE);
  expect([...tensors.keys()].sort()).toEqual(list.map((s) => s.name).sort());
  for (const s of list) {
    const t = tensors.get(s.name)!;
    expect([t.dtype, [...t.shape]]).toEqual([s.dtype, s.shape]);
    expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(s.bytes))).toBe(true);
  }
}

/** Arrays nested `depth` deep: [[[…[0]…]]]. */
const nested = (depth: number, inner = '0') => '['.repeat(depth) + inner + ']'.repeat(depth);

describe('safetensors reader, fuzzed', () => {
  it('random bytes, and random bytes behind a plausible header length', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => void parse(bytes)), { numRuns: 500 });
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 300 }), fc.uint8Array({ maxLength: 300 }), (n, rest) => {
        void parse(assembleRaw(rest.subarray(0, n), rest.subarray(n), BigInt(n)));
      }),
      { numRuns: 500 },
    );
  });

  it('random JSON headers and random header entries: parsed exactly or refused', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.uint8Array({ maxLength: 64 }), (header, data) => void parse(assemble(header, data))),
      { numRuns: 400 },
    );
    const anyNumber = fc.oneof(fc.nat(64), fc.integer(), fc.double(), fc.constant(2 ** 53), fc.constant(-1), fc.constant(1e300));
    const entry = fc.record(
      {
        dtype: fc.oneof(fc.constantFrom('F32', 'F64', 'I32', 'BF16', 'I64', 'BOOL'), fc.string(), fc.jsonValue()),
        shape: fc.oneof(fc.array(anyNumber, { maxLength: 4 }), fc.jsonValue()),
        data_offsets: fc.oneof(fc.tuple(fc.nat(80), fc.nat(80)), fc.array(anyNumber, { maxLength: 3 }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(entry, fc.jsonValue())), fc.uint8Array({ maxLength: 80 }), (header, data) => {
        const bytes = assemble(header, data);
        if (check(bytes, () => parseSafetensors(bytes, FILE).tensors) !== 'ok') return;
        // Accepted: every tensor is the file's bytes at its offsets.
        const { tensors } = parseSafetensors(bytes, FILE);
        const start = bytes.byteLength - data.byteLength;
        for (const [name, t] of tensors) {
          const [b, e] = (header[name] as { data_offsets: [number, number] }).data_offsets;
          expect(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(bytes.subarray(start + b, start + e)))).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('valid files round-trip; every truncation of one is refused', () => {
    fc.assert(
      fc.property(specs, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (list, cut) => {
        const { header, data } = layout(list);
        const bytes = assemble(header, data);
        expectSame(bytes, list);
        const short = bytes.subarray(0, Math.floor(cut * bytes.byteLength));
        expect(parse(short)).not.toBe('ok');
      }),
      { numRuns: 400 },
    );
  });

  it('a header length past the file, near 2⁶⁴ or off by a little is refused', () => {
    const u64 = 2n ** 64n;
    const lengths = fc.oneof(
      fc.bigInt({ min: 0n, max: u64 - 1n }),
      fc.bigInt({ min: u64 - 2n ** 20n, max: u64 - 1n }), // near 2⁶⁴ (wraps to small negatives as int64)
      fc.bigInt({ min: 2n ** 53n - 16n, max: 2n ** 53n + 16n }), // where a Number stops being exact
      fc.integer({ min: -16, max: 16 }).map(BigInt), // off by a little (relative to the true length below)
    );
    fc.assert(
      fc.property(specs, lengths, (list, forged) => {
        const { header, data } = layout(list);
        const json = Buffer.from(JSON.stringify(header));
        const field = forged >= -16n && forged <= 16n ? BigInt(json.byteLength) + forged : forged;
        if (field < 0n || field === BigInt(json.byteLength)) return;
        expect(parse(assembleRaw(json, data, field))).not.toBe('ok');
      }),
      { numRuns: 500 },
    );
  });

  it('out-of-order offsets that tile the data are read exactly; overlapping or gapped ones are refused', () => {
    const shuffled = specs.chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list.map((_, i) => i), { minLength: list.length })));
    fc.assert(
      fc.property(shuffled, fc.nat(), fc.integer({ min: -40, max: 40 }).filter((d) => d !== 0), ([list, order], pick, shift) => {
        const { header, data } = layout(list, order);
        expectSame(assemble(header, data), list); // any order of the bytes is fine if they tile
        const name = list[pick % list.length]!.name;
        const [b, e] = header[name]!.data_offsets;
        if (b === e || b + shift < 0) return; // moving an empty tensor changes nothing
        header[name]!.data_offsets = [b + shift, e + shift]; // same size, moved: overlaps, leaves a gap, or runs out
        expect(parse(assemble(header, data))).toMatch(/overlap|gap|past the end|not described/);
      }),
      { numRuns: 500 },
    );
  });

  it('a dtype or shape that disagrees with the byte count is refused, naming the tensor', () => {
    fc.assert(
      fc.property(
        specs,
        fc.nat(),
        fc.oneof(fc.constantFrom('F32', 'F64', 'I32', 'F16', 'BF16', 'U8', 'I64', 'f32', ''), fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 4 })),
        (list, pick, change) => {
          const { header, data } = layout(list);
          const target = list[pick % list.length]!;
          const entry = header[target.name]!;
          if (typeof change === 'string') entry.dtype = change;
          else entry.shape = change;
          const count = entry.shape.reduce((a, b) => a * b, 1);
          const size = { F32: 4, F64: 8, I32: 4 }[entry.dtype];
          if (size !== undefined && count * size === target.bytes.length) return; // still consistent
          const outcome = parse(assemble(header, data));
          expect(outcome).toContain(`tensor '${target.name.length > 60 ? target.name.slice(0, 60) : target.name}`);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('invalid UTF-8 in the header is refused (not read as U+FFFD)', () => {
    const invalid = fc.constantFrom([0xff], [0xc0, 0x80], [0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80]);
    fc.assert(
      fc.property(specs, invalid, fc.nat(), (list, seq, at) => {
        const { header, data } = layout(list);
        // Inside a metadata string, so that a lenient decoder would still see valid JSON.
        const json = Buffer.from(JSON.stringify({ __metadata__: { note: 'xxxxxxxx' }, ...header }));
        const open = json.indexOf('xxxxxxxx') + (at % 8);
        const broken = Buffer.concat([json.subarray(0, open), Buffer.from(seq), json.subarray(open)]);
        expect(parse(assembleRaw(broken, data))).toMatch(/not valid UTF-8/);
      }),
      { numRuns: 300 },
    );
  });

  it('deeply nested JSON anywhere in the header is refused quickly, without overflowing the stack', () => {
    const where = fc.constantFrom('header', 'entry', 'shape', 'offsets', 'dtype', 'metadata', 'name-list');
    fc.assert(
      fc.property(where, fc.integer({ min: 1, max: 100_000 }), (place, depth) => {
        const deep = nested(depth);
        const text = {
          header: deep,
          entry: `{"a":${nested(depth, '{}')}}`,
          shape: `{"a":{"dtype":"F32","shape":${deep},"data_offsets":[0,0]}}`,
          offsets: `{"a":{"dtype":"F32","shape":[0],"data_offsets":${deep}}}`,
          dtype: `{"a":{"dtype":${deep},"shape":[0],"data_offsets":[0,0]}}`,
          metadata: `{"__metadata__":{"k":${deep}}}`,
          'name-list': `{"a":{"dtype":"F32","shape":[${deep},1],"data_offsets":[0,4]}}`,
        }[place];
        expect(parse(assemble(text, new Uint8Array(4)))).not.toBe('ok');
      }),
      { numRuns: 150 },
    );
  });
});

describe('checkpoint metadata, fuzzed', () => {
  // A valid safetensors file whose grok metadata (step, config, optimizer skeleton, extra) is broken.
  const metaValue = fc.oneof(
    fc.string(),
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.integer({ min: 1, max: 50_000 }).map((d) => nested(d)), // deep optimizer skeletons: refused at 64 levels
    fc.constantFrom('{"$tensor":"optimizer.nope"}', '{"$map":[1,2]}', '{"$map":[["k"]]}', '{"$number":"x"}', '{"a":{"$tensor":5}}'),
  );
  it('loadCheckpoint loads it or names the file', () => {
    let n = 0;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('step', 'config', 'optimizer', 'extra', 'format'), metaValue), (metadata) => {
        const t = raw.tensor([1, 2, 3, 4], { shape: [2, 2] });
        const data = new Uint8Array(t.data.buffer.slice(0));
        const bytes = assemble({ __metadata__: metadata, 'embed.W_E': { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] } }, data);
        const file = join(dir, `m${n++}.safetensors`);
        writeFileSync(file, bytes);
        check(bytes, () => new Map(Object.entries(loadCheckpoint(file).tensors)), file);
      }),
      { numRuns: 400 },
    );
  });
});
