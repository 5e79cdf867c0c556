/**
 * Feature detection by validation: a tiny module using the instruction either validates or it does not.
 * Node 20 (V8 11) has relaxed SIMD only behind `node --experimental-wasm-relaxed-simd`. NODE_OPTIONS refuses
 * it; v8.setFlagsFromString works only if called before the first wasm module is validated or compiled (the
 * grok CLI and the bench do that first thing: enableRelaxedSimd, src/relaxed-simd.ts). The answer is cached here.
 */
import { type Code, ModuleBuilder, f32x4, local, type } from './wasm-emitter.js';

let relaxed: boolean | undefined;

/** Whether this runtime accepts f32x4.relaxed_madd (fused multiply-add where the CPU has FMA). */
export function hasRelaxedSimd(): boolean {
  relaxed ??= validates((a, b, c) => f32x4.relaxed_madd(a, b, c));
  return relaxed;
}

/** Whether a function (v128, v128, v128) → v128 with this body validates. */
function validates(body: (a: Code, b: Code, c: Code) => Code): boolean {
  const m = new ModuleBuilder();
  const f = m.function({ name: 'probe', params: [type.v128, type.v128, type.v128], results: [type.v128] });
  f.body = body(local.get(0), local.get(1), local.get(2));
  return WebAssembly.validate(m.emit());
}
