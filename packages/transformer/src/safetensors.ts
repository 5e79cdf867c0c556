/**
 * The safetensors format (https://github.com/huggingface/safetensors), the ML ecosystem's plain tensor file:
 *
 *   [8 bytes]  N, the header length, unsigned 64-bit little-endian
 *   [N bytes]  JSON: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] }, …,
 *                      "__metadata__": { "<key>": "<string value>" } }   (padded with spaces to 8-byte alignment)
 *   [rest]     the tensors' bytes, little-endian, row-major; offsets count from the start of this part.
 *
 * We write tensors back to back in header order. The reader checks everything a broken or hostile file
 * could get wrong, and each error names the file and, where there is one, the tensor. It allocates nothing
 * before every tensor is known to lie inside the file, so no header can make it allocate more than the
 * file's size (test/safetensors-fuzz.test.ts tries thousands of broken files).
 */
import { type DType, NDArray, raw } from '@grok/autograd';
import { clip, preview } from './preview.js';

const CODES: Record<DType, string> = { float32: 'F32', float64: 'F64', int32: 'I32' };
const FROM_CODE: Record<string, DType> = { F32: 'float32', F64: 'float64', I32: 'int32' };
/** Codes of the format that this project has no dtype for (named in the error, not just "unknown"). */
const OTHER_CODES = ['BOOL', 'U8', 'I8', 'F8_E5M2', 'F8_E4M3', 'I16', 'U16', 'F16', 'BF16', 'U32', 'I64', 'U64'];
const BYTES: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };
/** The reference implementation refuses headers over 100 MB; so do we. */
const MAX_HEADER = 100_000_000;

export type Metadata = Record<string, string>;

/** Typed arrays use the host's byte order: 1 as a uint16 is stored [1, 0] on a little-endian host. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndianHost(): void {
  // Every platform Node and the browsers run on today is little-endian.
  if (!LITTLE_ENDIAN) throw new Error('safetensors: big-endian hosts are not supported');
}

/** Serialises named tensors (in iteration order) and string metadata into one buffer. */
export function serializeSafetensors(tensors: Iterable<[string, NDArray]>, metadata: Metadata = {}): Uint8Array {
  assertLittleEndianHost();
  const header: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new Error(`safetensors: metadata '${key}' must be a string, got ${typeof value}`);
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__' || name in header) throw new Error(`safetensors: duplicate or reserved tensor name '${name}'`);
    if (!(t instanceof NDArray)) throw new Error(`safetensors: '${name}' is not an NDArray`);
    const data = t.data;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: CODES[t.dtype], shape: [...t.shape], data_offsets: [offset, offset + bytes.byteLength] };
    parts.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  const utf8 = new TextEncoder(); // (not Node's Buffer: this file also runs in browsers, the lab's downloads)
  json += ' '.repeat((8 - ((8 + utf8.encode(json).byteLength) % 8)) % 8); // the data starts 8-byte aligned
  const head = utf8.encode(json);
  const out = new Uint8Array(8 + head.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  let at = 8 + head.byteLength;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

export interface ParsedSafetensors {
  /** Tensors in header order. */
  tensors: Map<string, NDArray>;
  metadata: Metadata;
}

/** Parses a safetensors buffer; `file` names the source in errors. */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): ParsedSafetensors {
  assertLittleEndianHost();
  const fail = (why: string, tensor?: string): never => {
    throw new Error(`safetensors ${file}${tensor === undefined ? '' : `, tensor '${clip(tensor)}'`}: ${why}`);
  };
  if (bytes.byteLength < 8) fail(`truncated: ${bytes.byteLength} bytes, the header length alone needs 8`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER)) fail(`header length ${n} exceeds the ${MAX_HEADER}-byte limit`);
  if (8 + Number(n) > bytes.byteLength) fail(`header length ${n} runs past the end of the file (${bytes.byteLength} bytes)`);
  let headerText = '';
  try {
    // fatal: invalid UTF-8 is an error, as in the reference reader (a lenient decoder would turn it into U+FFFD).
    headerText = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + Number(n)));
  } catch {
    fail('header is not valid UTF-8');
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText); // iterative in V8: deep nesting cannot overflow the stack here
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header must be a JSON object');
  const dataStart = 8 + Number(n);
  const dataLength = bytes.byteLength - dataStart;

  const metadata: Metadata = {};
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof info !== 'object' || info === null || Array.isArray(info)) fail('__metadata__ must be an object');
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__ value '${k}' must be a string, got ${typeof v}`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (typeof info !== 'object' || info === null) fail('entry must be an object', name);
    const { dtype: code, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof code !== 'string') fail('dtype missing', name);
    const dtype = FROM_CODE[code as string];
    if (!dtype) {
      fail(OTHER_CODES.includes(code as string) ? `dtype ${code} is not supported (F32, F64, I32 are)` : `unknown dtype '${clip(code as string)}'`, name);
    }
    const isCount = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
    if (!Array.isArray(shape) || !shape.every(isCount)) fail(`shape must be an array of non-negative integers, got ${preview(shape)}`, name);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) {
      fail(`data_offsets must be [begin, end], got ${preview(offsets)}`, name);
    }
    const [begin, end] = offsets as [number, number];
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * BYTES[dtype!];
    if (end < begin) fail(`data_offsets [${begin}, ${end}] end before they begin`, name);
    if (end - begin !== expected) {
      fail(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape ${preview(shape)} of ${code} needs ${expected}`, name);
    }
    if (end > dataLength) fail(`data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes; file truncated?)`, name);
    entries.push({ name, dtype: dtype!, shape: shape as number[], begin, end });
  }
  // As the reference reader: sorted by offset, the tensors tile the data exactly (no overlap, no gap).
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of sorted) {
    if (e.begin < cursor) fail(`data_offsets [${e.begin}, ${e.end}] overlap another tensor's bytes`, e.name);
    if (e.begin > cursor) fail(`data_offsets [${e.begin}, ${e.end}] leave a gap of unused bytes before them`, e.name);
    cursor = e.end;
  }
  if (cursor !== dataLength) fail(`${dataLength - cursor} bytes after the last tensor are not described by the header`);

  const tensors = new Map<string, NDArray>();
  for (const e of entries) {
    // Copy into a fresh, aligned buffer (the data in the file need not be 8-byte aligned in memory).
    // (Not bytes.slice: on a Node Buffer that is a view of the same memory.)
    const copy = new ArrayBuffer(e.end - e.begin);
    new Uint8Array(copy).set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    const data = e.dtype === 'float32' ? new Float32Array(copy) : e.dtype === 'float64' ? new Float64Array(copy) : new Int32Array(copy);
    tensors.set(e.name, raw.tensor(data, { shape: e.shape, dtype: e.dtype }));
  }
  return { tensors, metadata };
}
