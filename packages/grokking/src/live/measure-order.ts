/**
 * Which checkpoints a live refresh measures first, when it cannot measure them all (its time is bounded).
 *
 * The newest first: the terminal line and the page's "now" come from it. Then, again and again, the
 * unmeasured checkpoint farthest (counted in checkpoints) from every measured one, the newer on a tie. A
 * refresh that keeps up measures the few checkpoints written since the last one; one that is far behind (the
 * live report started on a long run, or a slow machine) fills the curves in coarse to fine, over the whole
 * run at once, instead of leaving one end blank.
 */

/** `steps`: every checkpoint's step, ascending. Returns the unmeasured ones, in the order to measure them. */
export function measureOrder(steps: readonly number[], measured: ReadonlySet<number>): number[] {
  const n = steps.length;
  // distance[i]: checkpoints between i and the nearest measured (or already ordered) one; 0 = done.
  const distance = new Array<number>(n).fill(Infinity);
  const order: number[] = [];
  const take = (j: number) => {
    order.push(steps[j]!);
    for (let i = 0; i < n; i++) distance[i] = Math.min(distance[i]!, Math.abs(i - j));
  };
  steps.forEach((step, i) => measured.has(step) && (distance[i] = 0));
  for (let i = 1; i < n; i++) distance[i] = Math.min(distance[i]!, distance[i - 1]! + 1);
  for (let i = n - 2; i >= 0; i--) distance[i] = Math.min(distance[i]!, distance[i + 1]! + 1);

  if (n > 0 && distance[n - 1]! > 0) take(n - 1);
  for (;;) {
    let best = -1;
    for (let i = n - 1; i >= 0; i--) if (distance[i]! > 0 && (best < 0 || distance[i]! > distance[best]!)) best = i;
    if (best < 0) return order;
    take(best);
  }
}
