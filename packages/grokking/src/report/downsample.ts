/**
 * Lines need a few hundred points, not every logged step: a 40k-step run logged every 10 steps has 4,000
 * rows, and each series drawn at full resolution makes a slow, heavy SVG that looks the same. We keep
 * every k-th row (first and last always), and also every row where a value jumps to a new local
 * extreme in its bucket, so a loss spike stays visible after thinning.
 */
export function downsample<T>(rows: readonly T[], maxPoints: number, value?: (row: T) => number): T[] {
  if (rows.length <= maxPoints) return rows.slice();
  const keep = new Set<number>([0, rows.length - 1]);
  const bucket = Math.ceil(rows.length / Math.max(1, Math.floor(maxPoints / (value ? 3 : 1))));
  for (let start = 0; start < rows.length; start += bucket) {
    keep.add(start);
    if (!value) continue;
    // The smallest and largest value in the bucket: spikes and dips survive thinning.
    let lo = start;
    let hi = start;
    const end = Math.min(rows.length, start + bucket);
    for (let i = start; i < end; i++) {
      const v = value(rows[i]!);
      if (v < value(rows[lo]!)) lo = i;
      if (v > value(rows[hi]!)) hi = i;
    }
    keep.add(lo).add(hi);
  }
  return [...keep].sort((a, b) => a - b).map((i) => rows[i]!);
}
