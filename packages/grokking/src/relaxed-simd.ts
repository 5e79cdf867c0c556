/**
 * Turns on WebAssembly relaxed SIMD (the matmul kernel's fused multiply-add) for this process, before any
 * wasm is compiled. Node 20 ships it behind `--experimental-wasm-relaxed-simd`, which NODE_OPTIONS refuses;
 * but V8 reads its wasm feature flags when a module is validated or compiled, so setting the flag at start-up
 * with v8.setFlagsFromString works as well as the command-line flag, for this isolate and for the worker
 * threads started later (flags are process-wide). That avoids re-executing the CLI in a child process, and
 * with it forwarding signals (Ctrl-C must reach the training loop exactly once) and exit codes.
 *
 * Import this module first: ES modules run in import order, so it runs before @grok/tensor loads.
 * Opt out with GROK_RELAXED_SIMD=0 (or GROK_NO_REEXEC=1, the older switch). On a Node where the flag is
 * gone (relaxed SIMD on by default) or unknown, V8 prints nothing fatal and the fast path detects what it has.
 */
import * as v8 from 'node:v8';

const FLAG = '--experimental-wasm-relaxed-simd';
const optedOut = process.env['GROK_RELAXED_SIMD'] === '0' || process.env['GROK_NO_REEXEC'] === '1';
// Node 20 only: later versions have relaxed SIMD on by default (and may not know the flag).
const major = Number(process.versions.node.split('.')[0]);
if (!optedOut && major === 20 && !process.execArgv.includes(FLAG)) v8.setFlagsFromString(FLAG);
