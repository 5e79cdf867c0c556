/**
 * Module: a tree of named parameters and submodules, as torch.nn.Module.
 *
 * A parameter's full name is the path of dotted names from the root (`blocks.0.attn.W_Q`), which is
 * exactly the key TransformerLens (and PyTorch) uses in a state dict, so checkpoints are interchangeable.
 */
import { NDArray, type Parameter, type StateDict, copyInPlace, formatShape, shapesEqual } from '@grok/autograd';

export interface LoadOptions {
  /** Require exactly the model's names (default true). When false, unknown and missing names are skipped. */
  strict?: boolean;
  /** Prefix for error messages (e.g. the checkpoint's file name). */
  source?: string;
}

export abstract class Module {
  #parameters = new Map<string, Parameter>();
  #children = new Map<string, Module>();
  #parent: Module | null = null;
  #name = '';
  /** Training mode (no layer here behaves differently yet: there is no dropout). */
  training = true;

  /** Registers a parameter under `name` (declaration order is iteration order). */
  protected addParameter(name: string, p: Parameter): Parameter {
    assertFreshName(this, name, this.#parameters, this.#children);
    this.#parameters.set(name, p);
    return p;
  }

  /** Registers a child module under `name`. */
  protected addModule<M extends Module>(name: string, m: M): M {
    assertFreshName(this, name, this.#parameters, this.#children);
    if (m.#parent) throw new Error(`Module: '${name}' already belongs to '${m.path}'`);
    m.#parent = this;
    m.#name = name;
    this.#children.set(name, m);
    return m;
  }

  /** The dotted path from the root ('' for the root): the prefix of this module's names. */
  get path(): string {
    if (!this.#parent) return '';
    const up = this.#parent.path;
    return up ? `${up}.${this.#name}` : this.#name;
  }

  /** `name` prefixed with this module's path: the name a hook or parameter has in the whole model. */
  fullName(name: string): string {
    const p = this.path;
    return p ? `${p}.${name}` : name;
  }

  /** [name, parameter] pairs in a fixed order: own parameters first, then each child's, depth first. */
  *namedParameters(prefix = ''): Generator<[string, Parameter]> {
    for (const [name, p] of this.#parameters) yield [prefix + name, p];
    for (const [name, child] of this.#children) yield* child.namedParameters(`${prefix}${name}.`);
  }

  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  *namedModules(prefix = ''): Generator<[string, Module]> {
    yield [prefix.replace(/\.$/, ''), this];
    for (const [name, child] of this.#children) yield* child.namedModules(`${prefix}${name}.`);
  }

  /** Number of scalar parameters. */
  parameterCount(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /** A snapshot of every parameter by full name: copies, so later optimizer steps do not change it. */
  stateDict(): StateDict<NDArray> {
    const out: StateDict<NDArray> = {};
    for (const [name, p] of this.namedParameters()) out[name] = p.value.clone();
    return out;
  }

  /**
   * Replaces parameter values from `dict`. Names, shapes and dtypes are checked; an error names the
   * parameter and both shapes. Values are copied into each parameter's own NDArray, in place (on its
   * backend), so an optimizer or anything else holding the parameters sees the loaded values.
   */
  loadStateDict(dict: Readonly<StateDict>, options: LoadOptions = {}): void {
    const { strict = true, source } = options;
    const where = source ? `loadStateDict(${source})` : 'loadStateDict';
    const entries = new Map(Object.entries(dict));
    const own = new Map(this.namedParameters());
    if (strict) {
      const missing = [...own.keys()].filter((n) => !entries.has(n));
      const unexpected = [...entries.keys()].filter((n) => !own.has(n));
      if (missing.length || unexpected.length) {
        const parts = [];
        if (missing.length) parts.push(`missing ${missing.join(', ')}`);
        if (unexpected.length) parts.push(`unexpected ${unexpected.join(', ')}`);
        throw new Error(`${where}: names do not match the model: ${parts.join('; ')}`);
      }
    }
    // Check everything before changing anything, so a failed load leaves the model as it was.
    const updates: [Parameter, NDArray][] = [];
    for (const [name, p] of own) {
      const t = entries.get(name);
      if (t === undefined) continue;
      if (!(t instanceof NDArray)) throw new Error(`${where}: ${name} is not an NDArray`);
      if (!shapesEqual(t.shape, p.shape)) {
        throw new Error(`${where}: ${name} has shape ${formatShape(t.shape)}, the model expects ${formatShape(p.shape)}`);
      }
      if (t.dtype !== p.dtype) throw new Error(`${where}: ${name} has dtype ${t.dtype}, the model expects ${p.dtype}`);
      updates.push([p, t]);
    }
    for (const [p, t] of updates) {
      copyInPlace(p.value, t);
      p.zeroGrad();
    }
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }
}

/** A module holding numbered children ('0', '1', …), like torch.nn.ModuleList. */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[] = [];
  constructor(items: Iterable<M>) {
    super();
    for (const m of items) this.items.push(this.addModule(String(this.items.length), m));
  }
  get length(): number {
    return this.items.length;
  }
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}

function assertFreshName(m: Module, name: string, a: Map<string, unknown>, b: Map<string, unknown>): void {
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`Module: invalid name '${name}' (letters, digits and _ only)`);
  if (a.has(name) || b.has(name)) throw new Error(`Module: '${name}' is already registered in '${m.path || '(root)'}'`);
}
