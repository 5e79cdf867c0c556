/**
 * A seeded pseudo-random generator: xoshiro128** (Blackman & Vigna, 2018), seeded through splitmix32.
 *
 * Why this one: 128 bits of state, 32-bit integer arithmetic only (exact in JavaScript via Math.imul),
 * passes BigCrush, and is tiny enough to read. The same seed gives the same stream on every run and
 * every platform.
 *
 * Derived draws:
 * - `uniform()`: 53 random bits → a double in [0, 1).
 * - `normal()`: Box–Muller from two uniforms, the cosine branch only (one normal per two uniforms,
 *   so a draw never depends on whether an earlier call asked for an odd number of values).
 * - `int(n)`: an unbiased integer in [0, n) by rejection.
 */
export class Generator {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Resets the stream. Any finite number is a valid seed; its integer part is used. */
  seed(seed: number): this {
    if (!Number.isFinite(seed)) throw new Error(`Generator.seed: seed must be a finite number, got ${seed}`);
    // splitmix32 expands the low 32 bits of the seed into four state words. The high bits get their own
    // splitmix32 stream, XORed in (not folded into the low word first: that made 1 and 2^32 + 0 collide,
    // and -1 with 2^32 − 1). Seeds in [0, 2^32) have hi = 0 and keep their original streams.
    const n = Math.trunc(seed);
    const lo = ((n % 4294967296) + 4294967296) % 4294967296; // n mod 2^32, exact for |n| ≤ 2^53
    const hi = Math.floor(n / 4294967296); // floor, so negative seeds differ from their unsigned twins
    const words = splitmix32(lo, 4);
    if (hi !== 0) {
      const extra = splitmix32((hi ^ 0x6a09e667) >>> 0, 4);
      for (let i = 0; i < 4; i++) words[i] = (words[i]! ^ extra[i]!) >>> 0;
    }
    [this.s0, this.s1, this.s2, this.s3] = words as [number, number, number, number];
    return this;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** A double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A standard normal draw (mean 0, std 1). */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** An integer in [0, n), without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
      throw new Error(`Generator.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = 4294967296 - (4294967296 % n); // largest multiple of n that fits in 32 bits
    for (;;) {
      const r = this.nextUint32();
      if (r < limit) return r % n;
    }
  }

  /** A copy with the same state: both continue with the same stream. */
  clone(): Generator {
    const g = new Generator();
    g.s0 = this.s0;
    g.s1 = this.s1;
    g.s2 = this.s2;
    g.s3 = this.s3;
    return g;
  }
}

/** `count` outputs of splitmix32 started at `x` (32-bit unsigned). */
function splitmix32(x: number, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x = (x + 0x9e3779b9) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    out.push((z ^ (z >>> 16)) >>> 0);
  }
  return out;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

let defaultGenerator = new Generator(0);

/** Seeds the default generator used by `randn`, `rand`, … when no `seed`/`generator` is given. */
export function manualSeed(seed: number): void {
  defaultGenerator = new Generator(seed);
}

export function getDefaultGenerator(): Generator {
  return defaultGenerator;
}
