import { describe, expect, it } from 'vitest';
import { Generator, getDefaultGenerator, manualSeed, rand, randint, randn, randperm } from '@grok/tensor';

const values = (t: { data: ArrayLike<number> }) => Array.from(t.data);

describe('Generator', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Generator(42);
    const b = new Generator(42);
    const xs = Array.from({ length: 100 }, () => a.nextUint32());
    const ys = Array.from({ length: 100 }, () => b.nextUint32());
    expect(xs).toEqual(ys);
    for (const seed of [0, 1, 2, 43, 12345]) {
      const c = new Generator(seed);
      expect(Array.from({ length: 100 }, () => c.nextUint32())).not.toEqual(xs);
    }
    expect(xs.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 32)).toBe(true);
    expect(new Set(xs).size).toBe(100);
  });

  it('large and negative seeds do not collide with small ones', () => {
    const stream = (seed: number) => {
      const g = new Generator(seed);
      return Array.from({ length: 8 }, () => g.nextUint32());
    };
    const pairs: [number, number][] = [[0, 2 ** 32 + 1], [1, 2 ** 32], [-1, 2 ** 32 - 1], [5, 2 ** 40 + 5], [-5, 5]];
    for (const [x, y] of pairs) expect(stream(x), `${x} vs ${y}`).not.toEqual(stream(y));
    expect(stream(2 ** 40 + 5)).toEqual(stream(2 ** 40 + 5));
    expect(stream(7.9)).toEqual(stream(7)); // the integer part is the seed
  });

  it('seed() resets the stream', () => {
    const g = new Generator(7);
    const first = [g.uniform(), g.uniform()];
    g.seed(7);
    expect([g.uniform(), g.uniform()]).toEqual(first);
    expect(() => g.seed(NaN)).toThrow(/seed must be a finite number/);
  });

  it('clone continues identically and independently', () => {
    const g = new Generator(3);
    for (let i = 0; i < 10; i++) g.uniform();
    const c = g.clone();
    const fromG = Array.from({ length: 20 }, () => g.normal());
    const fromC = Array.from({ length: 20 }, () => c.normal());
    expect(fromC).toEqual(fromG);
    g.uniform(); // advancing one does not move the other
    const c2 = c.clone();
    expect(c.uniform()).toBe(c2.uniform());
  });

  it('int(n) stays in range and rejects bad n', () => {
    const g = new Generator(1);
    const counts = new Array(7).fill(0);
    for (let i = 0; i < 7000; i++) counts[g.int(7)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800); // ≈ 1000 each
    expect(() => g.int(0)).toThrow(/Generator.int/);
    expect(() => g.int(2.5)).toThrow(/Generator.int/);
  });
});

describe('random tensors', () => {
  it('same seed → identical numbers across calls; different seeds differ', () => {
    expect(values(randn([50], { seed: 5 }))).toEqual(values(randn([50], { seed: 5 })));
    expect(values(rand([50], { seed: 5 }))).toEqual(values(rand([50], { seed: 5 })));
    expect(values(randint(0, 10, [50], { seed: 5 }))).toEqual(values(randint(0, 10, [50], { seed: 5 })));
    expect(values(randperm(50, { seed: 5 }))).toEqual(values(randperm(50, { seed: 5 })));
    expect(values(randn([50], { seed: 5 }))).not.toEqual(values(randn([50], { seed: 6 })));
    expect(values(randperm(50, { seed: 5 }))).not.toEqual(values(randperm(50, { seed: 6 })));
  });

  it('manualSeed makes the default generator reproducible', () => {
    manualSeed(11);
    const a = values(randn([10]));
    const a2 = values(randn([10])); // the generator advances
    manualSeed(11);
    expect(values(randn([10]))).toEqual(a);
    expect(values(randn([10]))).toEqual(a2);
    expect(a2).not.toEqual(a);
    expect(getDefaultGenerator()).toBeInstanceOf(Generator);
  });

  it('a shared generator advances: two draws of 10 equal one draw of 20', () => {
    const g = new Generator(9);
    const twice = [...values(randn([10], { generator: g, dtype: 'float64' })), ...values(randn([10], { generator: g, dtype: 'float64' }))];
    expect(values(randn([20], { seed: 9, dtype: 'float64' }))).toEqual(twice);
    expect(() => randn([2], { seed: 1, generator: g })).toThrow(/either seed or generator/);
  });

  it('randn has mean ≈ 0 and std ≈ 1 over 100k draws', () => {
    const x = randn([100_000], { seed: 123, dtype: 'float64' }).data;
    let s = 0;
    let s2 = 0;
    for (const v of x) {
      s += v;
      s2 += v * v;
    }
    const mean = s / x.length;
    const std = Math.sqrt(s2 / x.length - mean * mean);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
    // About 68.3 % within one standard deviation.
    const within = Array.from(x).filter((v) => Math.abs(v) < 1).length / x.length;
    expect(Math.abs(within - 0.6827)).toBeLessThan(0.01);
  });

  it('randn honours mean, std and dtype', () => {
    const x = randn([20_000], { seed: 1, mean: 5, std: 0.1 });
    expect(x.dtype).toBe('float32');
    const m = Array.from(x.data).reduce((a, b) => a + b, 0) / x.size;
    expect(Math.abs(m - 5)).toBeLessThan(0.01);
    expect(() => randn([2], { dtype: 'int32' })).toThrow(/randn: dtype must be float32 or float64/);
  });

  it('rand lies in [0, 1) with mean ≈ 0.5', () => {
    const x = rand([100_000], { seed: 2 }).data;
    let s = 0;
    let inRange = true;
    for (const v of x) {
      inRange &&= v >= 0 && v < 1;
      s += v;
    }
    expect(inRange).toBe(true);
    expect(Math.abs(s / x.length - 0.5)).toBeLessThan(0.01);
    const y = rand([1000], { seed: 2, low: -3, high: -1 }).data;
    expect(Array.from(y).every((v) => v >= -3 && v < -1)).toBe(true);
  });

  it('rand never returns `high` after rounding to float32', () => {
    // A generator whose uniform draw is the largest double below 1: in float32 it would round to 1.0.
    class Extreme extends Generator {
      override uniform(): number {
        return 1 - 2 ** -53;
      }
    }
    const x = rand([4], { generator: new Extreme() });
    for (const v of x.data) expect(v).toBeLessThan(1);
    const y = rand([4], { generator: new Extreme(), low: 1, high: 2 });
    for (const v of y.data) expect(v).toBeLessThan(2);
    const z = rand([4], { generator: new Extreme(), low: 1, high: 2, dtype: 'float64' });
    for (const v of z.data) expect(v).toBe(2 - 2 ** -52);
  });

  it('randint covers [low, high) and nothing else', () => {
    const x = randint(-3, 4, [10_000], { seed: 8 });
    expect(x.dtype).toBe('int32');
    const seen = new Set(x.data);
    expect([...seen].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(() => randint(3, 3, [2])).toThrow(/randint: need integers low < high/);
    expect(() => randint(0, 1.5, [2])).toThrow(/randint/);
  });

  it('randperm is a permutation', () => {
    for (const n of [0, 1, 2, 113, 1000]) {
      const p = randperm(n, { seed: n });
      expect(p.dtype).toBe('int32');
      expect(p.shape).toEqual([n]);
      expect(Array.from(p.data).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
    }
    // A shuffle, not the identity.
    expect(Array.from(randperm(100, { seed: 1 }).data)).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });
});
