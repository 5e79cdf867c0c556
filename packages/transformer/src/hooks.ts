/**
 * Hook points: every activation of the forward pass passes through `ctx.hook(name, x)`, where a user's
 * function may read it (caching, probing) or return a replacement (ablations, patching). Names follow
 * TransformerLens (`blocks.0.attn.hook_pattern`).
 *
 * The hooks of one call live in a HookContext made for that call only, so they are gone when the call
 * ends — by construction, even when a hook throws.
 */
import { NDArray, Tensor, formatShape, shapesEqual } from '@grok/autograd';

/** Reads an activation, or returns one of the same shape to use instead. */
export type HookFn = (activation: Tensor, name: string) => Tensor | NDArray | void | undefined;

/** A hook on one name, or on every name a predicate accepts. */
export interface Hook {
  name: string | ((name: string) => boolean);
  fn: HookFn;
}

/** An array of hooks, or a record from hook name to function. */
export type Hooks = readonly Hook[] | Readonly<Record<string, HookFn>>;

export class HookContext {
  readonly #hooks: Hook[];

  /** `valid`: the model's hook names; a hook on any other name is an error (it would silently never run). */
  constructor(hooks: Hooks | undefined, valid: ReadonlySet<string>) {
    this.#hooks = normalizeHooks(hooks);
    for (const h of this.#hooks) {
      if (typeof h.fn !== 'function') throw new Error(`hooks: the hook on '${String(h.name)}' has no function`);
      if (typeof h.name === 'string' && !valid.has(h.name)) {
        throw new Error(`hooks: no hook point named '${h.name}' (known: ${[...valid].join(', ')})`);
      }
    }
  }

  /** Whether any hook looks at `name` (lets the model skip work needed only for observers). */
  wants(name: string): boolean {
    return this.#hooks.some((h) => matches(h, name));
  }

  /** Runs the hooks on `name` in order; each sees the previous one's result. */
  hook(name: string, x: Tensor): Tensor {
    let out = x;
    for (const h of this.#hooks) {
      if (!matches(h, name)) continue;
      const r = h.fn(out, name);
      if (r === undefined || r === null) continue;
      const t = r instanceof NDArray ? new Tensor(r) : r;
      if (!(t instanceof Tensor)) throw new Error(`hook on '${name}' returned ${typeof r}, not a Tensor`);
      if (!shapesEqual(t.shape, out.shape)) {
        throw new Error(`hook on '${name}' returned shape ${formatShape(t.shape)}, expected ${formatShape(out.shape)}`);
      }
      out = t.dtype === out.dtype ? t : t.cast(out.dtype);
    }
    return out;
  }
}

/** A context with no hooks. */
export const NO_HOOKS = new HookContext([], new Set());

/** Hooks as an array (a record becomes one hook per entry). */
export function normalizeHooks(hooks: Hooks | undefined): Hook[] {
  if (!hooks) return [];
  if (Array.isArray(hooks)) return [...(hooks as readonly Hook[])];
  return Object.entries(hooks as Record<string, HookFn>).map(([name, fn]) => ({ name, fn }));
}

function matches(h: Hook, name: string): boolean {
  return typeof h.name === 'string' ? h.name === name : h.name(name);
}
