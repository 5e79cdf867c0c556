/**
 * The WebAssembly SIMD matmul against float64 dot products: odd and large shapes, every transpose flag,
 * broadcast batches, 1 and 2 threads, memory growth, and a built process that must exit on its own.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isFastPathEnabled, matmul, setFastPath, tensor } from '@grok/tensor';
import { allocateInWasmMemory, fastMatmulInto, releaseWasmMemory, startThreads, threadPoolStats } from '../src/backends/cpu/fast/fast-matmul.js';
import { emitMatmulModule } from '../src/backends/cpu/fast/matmul-kernel.js';
import { hasRelaxedSimd } from '../src/backends/cpu/fast/simd-features.js';
import { kSplitParts, planWork } from '../src/backends/cpu/fast/work-split.js';
import { DEFAULT_SHAPE } from '../src/backends/cpu/fast/matmul-kernel.js';
import { type MatmulProblem, matmulInto, planMatmul } from '../src/backends/reference/matmul.js';

/** A small deterministic generator (tests must not depend on the library's own RNG). */
function randomArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

function problem(
  batchA: number[], batchB: number[], M: number, K: number, N: number, transA: boolean, transB: boolean, seed = 1,
): MatmulProblem {
  const aShape = [...batchA, ...(transA ? [K, M] : [M, K])];
  const bShape = [...batchB, ...(transB ? [N, K] : [K, N])];
  const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
  return { a: randomArray(size(aShape), seed), aShape, transA, b: randomArray(size(bShape), seed + 7), bShape, transB };
}

/**
 * Checks `out` entry by entry (or a sample of entries, for large outputs) against a float64 dot product. The
 * tolerance is the float32 accumulation bound: (K + 2) rounding errors of 2⁻²⁴ relative to Σ|a||b|.
 */
function expectMatches(p: MatmulProblem, out: Float32Array, sample = 4000): void {
  const { M, K, N, nBatch, aOffsets, bOffsets } = planMatmul(p);
  const A = (t: number, i: number, k: number) => p.a[aOffsets[t]! + (p.transA ? k * M + i : i * K + k)]!;
  const B = (t: number, k: number, j: number) => p.b[bOffsets[t]! + (p.transB ? j * K + k : k * N + j)]!;
  const total = nBatch * M * N;
  const picks = total <= sample ? total : sample;
  for (let s = 0; s < picks; s++) {
    const flat = total <= sample ? s : Math.floor(((s * 2654435761) % 2 ** 32) / 2 ** 32 * total);
    const t = Math.floor(flat / (M * N));
    const i = Math.floor((flat % (M * N)) / N);
    const j = flat % N;
    let dot = 0;
    let bound = 0;
    for (let k = 0; k < K; k++) {
      dot += A(t, i, k) * B(t, k, j);
      bound += Math.abs(A(t, i, k) * B(t, k, j));
    }
    const got = out[flat]!;
    const tol = 2 * (K + 2) * 2 ** -24 * bound;
    if (!(Math.abs(got - dot) <= tol)) {
      throw new Error(`C[${t}][${i}][${j}] = ${got}, expected ${dot} ± ${tol} (M=${M} K=${K} N=${N})`);
    }
  }
}

/** Bit-for-bit equality (toEqual walks a 2M-element typed array far too slowly). */
function expectSameBits(got: Float32Array, want: Float32Array): void {
  expect(got.length).toBe(want.length);
  const [g, w] = [new Uint32Array(got.buffer, got.byteOffset, got.length), new Uint32Array(want.buffer, want.byteOffset, want.length)];
  let first = -1;
  for (let i = 0; i < g.length && first < 0; i++) if (g[i] !== w[i]) first = i;
  expect(first, first < 0 ? '' : `element ${first}: ${got[first]} vs ${want[first]}`).toBe(-1);
}

function runFast(p: MatmulProblem, threads: number): Float32Array {
  const out = new Float32Array(planMatmul(p).nBatch * planMatmul(p).M * planMatmul(p).N);
  expect(fastMatmulInto(p, out, threads)).toBe(true);
  return out;
}

const FLAGS: [boolean, boolean][] = [[false, false], [true, false], [false, true], [true, true]];
const flagName = ([a, b]: [boolean, boolean]) => `${a ? 'Aᵀ' : 'A'}·${b ? 'Bᵀ' : 'B'}`;

describe('fast matmul kernel', () => {
  // Workers only take work once they are up; wait for them so the 2- and 3-thread cases really split.
  beforeAll(() => startThreads(3));

  it('emits a module that validates, with and without relaxed SIMD', () => {
    const memoryPages = { initial: 1, maximum: 16 };
    expect(WebAssembly.validate(emitMatmulModule({ relaxed: false, memoryPages }))).toBe(true);
    expect(WebAssembly.validate(emitMatmulModule({ relaxed: true, memoryPages }))).toBe(hasRelaxedSimd());
  });

  for (const flags of FLAGS) {
    it(`matches float64 on odd and model shapes, ${flagName(flags)}, 1 and 2 threads`, () => {
      const Ms = [1, 3, 7, 113, 3830];
      const KNs = [1, 3, 128, 512];
      let seed = 1;
      for (const M of Ms) {
        for (const K of KNs) {
          for (const N of KNs) {
            // The largest cases cost seconds in the float64 checker for little extra coverage: keep one.
            if (M === 3830 && K * N > 128 * 512) continue;
            const p = problem([], [], M, K, N, flags[0], flags[1], seed++);
            for (const threads of [1, 2]) expectMatches(p, runFast(p, threads));
          }
        }
      }
    });
  }

  it('matches on broadcast batches, every flag, 1 and 2 threads', () => {
    for (const flags of FLAGS) {
      // [4]·[] and [3, 1]·[1] fold the batch into the rows (B shared, unless A is transposed).
      for (const [batchA, batchB] of [[[2, 1], [3]], [[4], []], [[3, 1], [1]], [[], [5]], [[3], [3]]] as [number[], number[]][]) {
        for (const [M, K, N] of [[3, 5, 7], [113, 64, 33], [40, 300, 129]]) {
          const p = problem(batchA, batchB, M!, K!, N!, flags[0], flags[1], M! + K!);
          for (const threads of [1, 2]) expectMatches(p, runFast(p, threads));
        }
      }
    }
  });

  it('splits across more threads than cores, and after the memory has grown', () => {
    const small = problem([], [], 64, 64, 256, false, false, 3); // grows nothing; starts the workers
    expectMatches(small, runFast(small, 3));
    const big = problem([2], [], 1500, 700, 900, false, true, 4); // ≈ 40 MB: the shared memory grows
    expectMatches(big, runFast(big, 3));
    expectMatches(big, runFast(big, 2));
  });

  it('really hands tasks to the workers, and none fail', () => {
    const before = threadPoolStats().tasksRunByWorkers;
    const p = problem([], [], 3830, 128, 512, false, false, 6);
    for (let round = 0; round < 5; round++) expectMatches(p, runFast(p, 3), 200);
    const stats = threadPoolStats();
    expect(stats.workers).toBe(2);
    expect(stats.tasksRunByWorkers).toBeGreaterThan(before);
    expect(stats.failedJobs).toBe(0);
  });

  it('survives many back-to-back threaded calls (the Atomics handshake)', () => {
    const p = problem([], [], 96, 256, 128, true, false, 5); // 6.3 MFLOP: just enough to split in two
    const first = runFast(p, 2);
    expectMatches(p, first);
    let mismatches = 0;
    for (let round = 0; round < 300; round++) {
      const again = runFast(p, 2);
      for (let i = 0; i < again.length; i++) if (again[i] !== first[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('gives the same bits call after call when jobs of different kinds follow each other (no write of one job lands in the next)', () => {
    // The training step's mix: a K split (REDUCE tasks wait for a counter), a shared packed B (GEMM tasks wait
    // for PACK_B) and row splits with copies (tasks wait for the caller's copies), back to back. A worker's
    // counter bump that arrived after the caller had moved on would open a gate of the next job early.
    const shapes = [
      problem([], [], 128, 3830, 128, true, false, 11), problem([], [], 3830, 128, 128, false, false, 12),
      problem([], [], 383, 512, 64, false, true, 13), problem([], [], 96, 256, 128, true, false, 14),
    ];
    const first = shapes.map((p) => runFast(p, 2));
    let mismatches = 0;
    for (let round = 0; round < 100; round++) {
      shapes.forEach((p, s) => {
        const again = runFast(p, 2);
        for (let i = 0; i < again.length; i++) if (again[i] !== first[s]![i]) { mismatches++; break; }
      });
    }
    expect(mismatches).toBe(0);
    shapes.forEach((p, s) => expectSameBits(first[s]!, runFast(p, 1)));
  });

  it('splits deep K into partials (weight-gradient shapes), every flag, odd sizes, bitwise the same at 1, 2, 3 threads', () => {
    for (const flags of FLAGS) {
      for (const [M, K, N] of [[128, 3830, 512], [37, 2001, 45], [1, 1030, 9], [130, 1500, 3]]) {
        const p = problem([], [], M!, K!, N!, flags[0], flags[1], M! + N!);
        expect(kSplitParts(1, M!, N!, K!)).toBeGreaterThan(1);
        const one = runFast(p, 1);
        expectMatches(p, one, 1500);
        for (const threads of [2, 3]) expectSameBits(runFast(p, threads), one);
      }
    }
  });

  it('shares one packed B between row tasks (and batch tasks), odd sizes, bitwise the same at 1, 2, 3 threads', () => {
    const cases: [number[], number[], number, number, number, boolean, boolean][] = [
      [[], [], 1001, 300, 77, false, true], // rows split, B packed once
      [[], [], 3830, 128, 512, false, false],
      [[], [], 517, 61, 33, true, false],
      [[7], [], 90, 200, 50, true, false], // Aᵀ with a shared B is not folded: batch tasks share the packed B
      [[3, 1], [1], 300, 129, 65, true, true],
    ];
    for (const [batchA, batchB, M, K, N, tA, tB] of cases) {
      const p = problem(batchA, batchB, M, K, N, tA, tB, M + K);
      const one = runFast(p, 1);
      expectMatches(p, one, 1500);
      for (const threads of [2, 3]) expectSameBits(runFast(p, threads), one);
    }
  });

  it('handles K = 0 and empty outputs', () => {
    const p = problem([], [], 3, 0, 4, false, false);
    const out = new Float32Array(12).fill(7);
    expect(fastMatmulInto(p, out, 2)).toBe(true);
    expect([...out]).toEqual(new Array(12).fill(0));
    expect(fastMatmulInto(problem([], [], 0, 5, 4, false, false), new Float32Array(0), 2)).toBe(true);
  });
});

describe('operands that live in wasm memory (a captured tape\'s buffers)', () => {
  beforeAll(() => startThreads(3));

  const inWasm = (data: Float32Array | number) => {
    const view = allocateInWasmMemory('float32', typeof data === 'number' ? data : data.length) as Float32Array;
    if (typeof data !== 'number') view.set(data);
    return view;
  };

  it('are read and written in place, bitwise as when copied, every flag, K split and row split, 1/2/3 threads', () => {
    for (const flags of FLAGS) {
      for (const [batchA, M, K, N] of [[[], 113, 64, 33], [[], 3830, 128, 512], [[], 37, 2001, 45], [[3], 40, 300, 129]] as [number[], number, number, number][]) {
        const p = problem(batchA, [], M, K, N, flags[0], flags[1], M + K);
        const want = runFast(p, 1);
        const a = inWasm(p.a as Float32Array);
        const b = inWasm(p.b as Float32Array);
        const out = inWasm(want.length);
        // Each operand alone in wasm memory, then all three.
        for (const [pa, pb, po] of [[a, p.b, new Float32Array(want.length)], [p.a, b, new Float32Array(want.length)], [p.a, p.b, out], [a, b, out]] as Float32Array[][]) {
          for (const threads of [1, 2, 3]) {
            po!.fill(NaN);
            expect(fastMatmulInto({ ...p, a: pa!, b: pb! }, po!, threads)).toBe(true);
            expectSameBits(po!, want);
          }
        }
        releaseWasmMemory(a.byteOffset);
      }
    }
  });

  it('stay intact while copying calls use the scratch space above them', () => {
    const p = problem([], [], 300, 200, 100, false, false, 11);
    const a = inWasm(p.a as Float32Array);
    const out = inWasm(300 * 100);
    const big = problem([], [], 1200, 300, 700, true, false, 12); // grows the memory
    expectMatches(big, runFast(big, 2), 500);
    expect(fastMatmulInto({ ...p, a }, out, 2)).toBe(true);
    expectSameBits(out, runFast(p, 1));
    expect(a).toEqual(p.a);
    releaseWasmMemory(a.byteOffset);
  });
});

describe('work split', () => {
  const volume = (b: { batchStart: number; batchEnd: number; rowStart: number; rowEnd: number; colStart: number; colEnd: number; kStart: number; kEnd: number }) =>
    (b.batchEnd - b.batchStart) * (b.rowEnd - b.rowStart) * (b.colEnd - b.colStart) * (b.kEnd - b.kStart);

  it('splits K for deep products with a small C, the same way at any thread count, and covers C × K exactly', () => {
    for (const [M, K, N] of [[128, 3830, 512], [512, 3830, 128], [128, 3830, 128]]) {
      const parts = kSplitParts(1, M!, N!, K!);
      expect(parts).toBe(6);
      for (const threads of [1, 2, 3]) {
        const plan = planWork(1, M!, N!, K!, threads, DEFAULT_SHAPE, true);
        expect(plan.kParts).toBe(parts);
        expect(plan.boxes.map((b) => [b.kStart, b.kEnd])).toEqual(planWork(1, M!, N!, K!, 1, DEFAULT_SHAPE, true).boxes.map((b) => [b.kStart, b.kEnd]));
        expect(plan.boxes.reduce((n, b) => n + volume(b), 0)).toBe(M! * N! * K!);
        expect(plan.reduceRows.at(-1)![1]).toBe(M);
      }
    }
    // The forward shapes are wide, not deep: no K split.
    expect(kSplitParts(1, 3830, 512, 128)).toBe(1);
    expect(kSplitParts(1, 3830, 128, 512)).toBe(1);
    expect(kSplitParts(4, 128, 512, 3830)).toBe(1);
  });

  it('shares the packed B only with threads, along rows or batch entries', () => {
    expect(planWork(1, 3830, 512, 128, 1, DEFAULT_SHAPE, true).shareB).toBe(false);
    const rows = planWork(1, 3830, 512, 128, 2, DEFAULT_SHAPE, true);
    expect(rows.shareB).toBe(true);
    expect(rows.boxes.length).toBeGreaterThan(4);
    expect(rows.boxes.reduce((n, b) => n + volume(b), 0)).toBe(3830 * 512 * 128);
    expect(planWork(1, 3830, 512, 128, 2, DEFAULT_SHAPE, false).shareB).toBe(false);
    expect(planWork(1, 128, 3830, 128, 2, DEFAULT_SHAPE, true).shareB).toBe(false); // along N: A is repacked
  });

  it('tiles C exactly, aligned to the register tile, and keeps small problems on one thread', () => {
    expect(planWork(1, 10, 10, 10, 2, DEFAULT_SHAPE, true).boxes).toHaveLength(1);
    for (const [nBatch, M, N] of [[1, 3830, 512], [1, 128, 512], [6, 100, 100], [1, 113, 113]]) {
      const { boxes } = planWork(nBatch!, M!, N!, 512, 2, DEFAULT_SHAPE, false);
      expect(boxes.length).toBeGreaterThanOrEqual(2);
      const covered = boxes.reduce(
        (n, b) => n + (b.batchEnd - b.batchStart) * (b.rowEnd - b.rowStart) * (b.colEnd - b.colStart), 0);
      expect(covered).toBe(nBatch! * M! * N!);
      for (const b of boxes) expect(b.rowStart % 4 === 0 && b.colStart % 8 === 0).toBe(true);
    }
  });
});

describe('CpuBackend.matmul integration', () => {
  afterEach(() => setFastPath(true));

  it('float32 takes the fast path and agrees with the reference; float64 stays exact', () => {
    expect(isFastPathEnabled()).toBe(true);
    const p = problem([2], [], 37, 129, 65, true, false, 9);
    const a = tensor(p.a, { dtype: 'float32' }).reshape(p.aShape);
    const b = tensor(p.b, { dtype: 'float32' }).reshape(p.bShape);
    const fast = matmul(a, b, { transA: true }).data as Float32Array;
    setFastPath(false);
    const reference = matmul(a, b, { transA: true }).data as Float32Array;
    expectMatches(p, fast);
    expectMatches(p, reference);
    setFastPath(true);

    const a64 = a.cast('float64');
    const b64 = b.cast('float64');
    const exact = new Float64Array(2 * 37 * 65);
    matmulInto({ ...p, a: a64.data as Float64Array, b: b64.data as Float64Array }, exact);
    expect(matmul(a64, b64, { transA: true }).data).toEqual(exact);
  });
});

describe('built package', () => {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

  beforeAll(() => {
    // Build the tensor package so the check runs what `node` users run. A type error elsewhere in the
    // package still emits JavaScript, so only a missing dist/ skips the check below.
    try {
      execFileSync('pnpm', ['exec', 'tsc', '-b', 'packages/tensor'], { cwd: root, stdio: 'pipe' });
    } catch {
      /* reported by the test below if nothing was emitted */
    }
  }, 120_000);

  it('runs a threaded matmul from dist/ and the process exits by itself', async (ctx) => {
    if (!existsSync(dist)) ctx.skip(`no ${dist}: run \`pnpm exec tsc -b\` first`);
    const script = `
      import { tensor, matmul, setThreads, setFastPath, startThreads, fastMatmulUsesRelaxedSimd, enableRelaxedSimd } from ${JSON.stringify(dist)};
      if (process.env.ENABLE === '1') enableRelaxedSimd();
      setThreads(2);
      await startThreads();
      const n = 600;
      const a = tensor(Float32Array.from({ length: n * n }, (_, i) => (i % 17) - 8)).reshape([n, n]);
      const fast = matmul(a, a).data;
      setFastPath(false);
      const ref = matmul(a, a).data;
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(fast[i] - ref[i]));
      console.log(JSON.stringify({ maxErr, relaxed: fastMatmulUsesRelaxedSimd() }));`;
    // Small integers: every product and partial sum is exact in float32, so both paths agree exactly.
    const run = async (flags: string[], env: Record<string, string> = {}) => {
      const { stdout } = await promisify(execFile)(process.execPath, [...flags, '--input-type=module', '-e', script], {
        timeout: 60_000,
        env: { ...process.env, GROK_RELAXED_SIMD: '', ...env },
      });
      return JSON.parse(stdout) as { maxErr: number; relaxed: boolean };
    };
    expect((await run([])).maxErr).toBe(0);
    // With relaxed SIMD on (a start-up flag in Node 20) the kernel uses fused multiply-add, in the worker
    // threads too; enableRelaxedSimd() turns it on from inside the program, as the flag does.
    const flag = '--experimental-wasm-relaxed-simd';
    if (spawnSync(process.execPath, [flag, '-e', '0']).status === 0) {
      expect(await run([flag])).toEqual({ maxErr: 0, relaxed: true });
      expect(await run([], { ENABLE: '1' })).toEqual({ maxErr: 0, relaxed: true });
      expect(await run([], { ENABLE: '1', GROK_RELAXED_SIMD: '0' })).toEqual({ maxErr: 0, relaxed: false });
    }
  }, 120_000);
});
