/**
 * State dicts: an optimizer (or gradient filter) saved mid-run and loaded into a fresh one continues bit
 * for bit like the uninterrupted run; saved state is a copy; mismatches are clear errors.
 */
import { describe, expect, it } from 'vitest';
import {
  AdamW,
  GrokfastEMA,
  GrokfastMA,
  Parameter,
  SGD,
  type StateDict,
  Tensor,
  randn,
  schedules,
  tensor,
} from '@grok/autograd';

type Stepper = { step(): void; stateDict(): StateDict; loadStateDict(sd: StateDict): void };
type Filter = { apply(): void; stateDict(): StateDict; loadStateDict(sd: StateDict): void };

/** A small least-squares problem, so each gradient depends on the current parameters. */
const X = randn([6, 3], { dtype: 'float64', seed: 21 });
const Y = randn([6, 2], { dtype: 'float64', seed: 22 });
const freshParams = (dtype: 'float32' | 'float64' = 'float64') => [
  new Parameter(randn([3, 2], { dtype, seed: 23 })),
  new Parameter(randn([2], { dtype, seed: 24 })),
];
function backward(ps: Parameter[]): void {
  for (const p of ps) p.zeroGrad();
  const [W, b] = ps as [Parameter, Parameter];
  X.cast(W.dtype).matmul(W).add(b).sub(Y.cast(W.dtype)).square().sum().backward();
}

function train(ps: Parameter[], opt: Stepper, filter: Filter | null, steps: number): void {
  for (let k = 0; k < steps; k++) {
    backward(ps);
    filter?.apply();
    opt.step();
  }
}

const snapshot = (ps: Parameter[]) => ps.map((p) => Array.from(p.data));

const makers: [string, (ps: Parameter[]) => Stepper, ((ps: Parameter[]) => Filter) | null][] = [
  ['AdamW with warm-up', (ps) => new AdamW(ps, { lr: schedules.linearWarmup(0.01, 4), betas: [0.9, 0.98], weightDecay: 1 }), null],
  ['AdamW amsgrad', (ps) => new AdamW(ps, { lr: 0.01, amsgrad: true }), null],
  ['SGD nesterov', (ps) => new SGD(ps, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.1 }), null],
  ['AdamW + GrokfastEMA', (ps) => new AdamW(ps, { lr: 0.01 }), (ps) => new GrokfastEMA(ps)],
  ['AdamW + GrokfastMA', (ps) => new AdamW(ps, { lr: 0.01 }), (ps) => new GrokfastMA(ps, { windowSize: 3 })],
];

describe('state dict round trip: resuming is bit-exact', () => {
  for (const dtype of ['float64', 'float32'] as const) {
    for (const [name, makeOpt, makeFilter] of makers) {
      it(`${name}, ${dtype}`, () => {
        // Uninterrupted: 10 steps.
        const a = freshParams(dtype);
        train(a, makeOpt(a), makeFilter?.(a) ?? null, 10);

        // Interrupted after 5: save parameters and state, rebuild everything, load, 5 more.
        const b = freshParams(dtype);
        const optB = makeOpt(b);
        const filterB = makeFilter?.(b) ?? null;
        train(b, optB, filterB, 5);
        const saved = { params: b.map((p) => p.value.clone()), opt: optB.stateDict(), filter: filterB?.stateDict() };
        train(b, optB, filterB, 3); // the saved state must not see these steps

        // clone(): AdamW updates p.value in place, and the saved copy is used twice.
        const c = saved.params.map((v) => new Parameter(v.clone()));
        const optC = makeOpt(c);
        optC.loadStateDict(saved.opt);
        const filterC = makeFilter?.(c) ?? null;
        if (filterC) filterC.loadStateDict(saved.filter!);
        train(c, optC, filterC, 5);
        expect(snapshot(c)).toEqual(snapshot(a));

        // Not vacuous: resuming with fresh optimizer state ends elsewhere.
        const d = saved.params.map((v) => new Parameter(v.clone()));
        train(d, makeOpt(d), makeFilter?.(d) ?? null, 5);
        expect(snapshot(d)).not.toEqual(snapshot(a));
      });
    }
  }

  it('stateDict names: step, then state.<i>.<name>, as PyTorch names them', () => {
    const ps = freshParams();
    const opt = new AdamW(ps, { amsgrad: true });
    expect(opt.stateDict()).toEqual({ step: 0 });
    train(ps, opt, null, 2);
    expect(Object.keys(opt.stateDict()).sort()).toEqual([
      'state.0.exp_avg', 'state.0.exp_avg_sq', 'state.0.max_exp_avg_sq', 'state.0.step',
      'state.1.exp_avg', 'state.1.exp_avg_sq', 'state.1.max_exp_avg_sq', 'state.1.step', 'step',
    ]);
    const sd = opt.stateDict();
    expect(sd['step']).toBe(2);
    expect((sd['state.0.exp_avg'] as Tensor['value']).shape).toEqual([3, 2]);
    const ma = new GrokfastMA(ps, { windowSize: 5 });
    backward(ps);
    ma.apply();
    backward(ps);
    ma.apply();
    expect((ma.stateDict()['state.0.window'] as Tensor['value']).shape).toEqual([2, 3, 2]);
  });
});

describe('loadStateDict errors', () => {
  const trained = () => {
    const ps = freshParams();
    const opt = new AdamW(ps);
    train(ps, opt, null, 2);
    return { ps, sd: opt.stateDict() };
  };
  const load = (sd: StateDict, make = (ps: Parameter[]) => new AdamW(ps)) => () => make(freshParams()).loadStateDict(sd);

  it('a tensor of the wrong shape names the key and both shapes', () => {
    const { sd } = trained();
    sd['state.1.exp_avg'] = tensor([1, 2, 3], { dtype: 'float64' }).value;
    expect(load(sd)).toThrow(/AdamW\.loadStateDict: "state\.1\.exp_avg" has shape \[3\], but parameter 1 needs \[2\]/);
  });

  it('a tensor of the wrong dtype', () => {
    const { sd } = trained();
    sd['state.0.exp_avg_sq'] = (sd['state.0.exp_avg_sq'] as Tensor['value']).cast('float32');
    expect(load(sd)).toThrow(/"state\.0\.exp_avg_sq" is float32, but parameter 0 is float64/);
  });

  it('unknown keys, unknown state names, missing entries, out-of-range parameters', () => {
    const { sd } = trained();
    expect(load({ ...sd, lr: 0.1 })).toThrow(/unexpected key "lr"/);
    expect(load({ ...sd, 'state.0.momentum_buffer': 1 })).toThrow(/unknown state "momentum_buffer"/);
    const { 'state.0.exp_avg_sq': _, ...partial } = sd;
    expect(load(partial)).toThrow(/parameter 0 lacks "state\.0\.exp_avg_sq"/);
    const { step: __, ...noStep } = sd;
    expect(load(noStep)).toThrow(/missing "step"/);
    expect(load({ ...sd, 'state.5.step': 1 })).toThrow(/"state\.5\.step" is for parameter 5, but there are only 2 parameters/);
    // amsgrad state into a plain AdamW, and plain state into an amsgrad one
    expect(load({ ...sd, 'state.0.max_exp_avg_sq': sd['state.0.exp_avg']! })).toThrow(/unknown state "max_exp_avg_sq"/);
    expect(load(sd, (ps) => new AdamW(ps, { amsgrad: true }))).toThrow(/lacks "state\.0\.max_exp_avg_sq"/);
  });

  it('a failed load changes nothing', () => {
    const { sd } = trained();
    const ps = freshParams();
    const opt = new AdamW(ps);
    train(ps, opt, null, 1);
    const before = opt.stateDict();
    expect(() => opt.loadStateDict({ ...sd, 'state.1.exp_avg': 'x' as unknown as number })).toThrow(/must be an NDArray/);
    expect(opt.stepCount).toBe(1);
    expect(opt.stateDict()).toEqual(before);
  });

  it('GrokfastMA: a window longer than the window size', () => {
    const ps = freshParams();
    const ma = new GrokfastMA(ps, { windowSize: 4, warmup: false });
    for (let k = 0; k < 4; k++) {
      backward(ps);
      ma.apply();
    }
    const sd = ma.stateDict();
    expect(() => new GrokfastMA(freshParams(), { windowSize: 3 }).loadStateDict(sd)).toThrow(
      /"state\.0\.window" holds 4 gradients; the window size is 3/,
    );
  });
});
