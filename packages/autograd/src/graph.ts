/**
 * The computation graph: how a tensor was made (its parents and the backward rule), grad mode, and the
 * reverse-mode sweep that turns a loss into gradients.
 */
import * as T from '@grok/tensor';
import { NDArray } from '@grok/tensor';
import type { Tensor } from './tensor.js';

/** The backward rule of one op: the gradient of the output → one gradient (or null) per parent. */
export type BackwardFn = (grad: NDArray) => (NDArray | null)[];

/** The record an op leaves on its output: which op, from which parents, and how to send gradients back. */
export interface GraphNode {
  op: string;
  parents: Tensor[];
  backward: BackwardFn;
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Runs `fn` without recording a graph (evaluation, optimizer updates). Restores the mode even on error. */
export function noGrad<R>(fn: () => R): R {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Parents in topological order, ending with `root` (iterative DFS: deep graphs don't overflow the stack). */
export function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [t, next] = top;
    const parents = t.node?.parents ?? [];
    if (next < parents.length) {
      top[1] = next + 1;
      const p = parents[next]!;
      if (!visited.has(p) && p.requiresGrad) {
        visited.add(p);
        stack.push([p, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order;
}

/**
 * Reverse-mode sweep from `root` with upstream gradient `seed`. Leaves that require grad accumulate into
 * `.grad` (adding to what is there, as in PyTorch); the graph is released afterwards unless `retainGraph`.
 */
export function runBackward(root: Tensor, seed: NDArray, retainGraph: boolean): void {
  const order = topologicalOrder(root);
  // Checked before anything accumulates, so a refused call changes no .grad.
  if (order.some((t) => t.released)) {
    throw new Error(
      'backward: part of this graph was already released by an earlier backward(); pass { retainGraph: true } to that earlier call to backpropagate through the graph again',
    );
  }
  const grads = new Map<Tensor, NDArray>([[root, seed]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i]!;
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t); // free intermediate gradients as soon as they are used
    if (!t.node) {
      t.accumulateGrad(g);
      continue;
    }
    const parentGrads = t.node.backward(g);
    t.node.parents.forEach((p, k) => {
      const pg = parentGrads[k];
      if (!pg || !p.requiresGrad) return;
      if (!T.shapesEqual(pg.shape, p.shape)) {
        throw new Error(
          `backward of ${t.node!.op}: gradient ${T.formatShape(pg.shape)} does not match input ${T.formatShape(p.shape)} (a bug in the op)`,
        );
      }
      const prev = grads.get(p);
      grads.set(p, prev ? T.add(prev, pg) : pg);
    });
    if (!retainGraph) {
      t.node = null;
      t.released = true;
    }
  }
}
