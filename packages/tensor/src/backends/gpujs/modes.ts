/**
 * The GPU.js modes the gpujs backend knows, and what headless-gl needs. Nothing here needs gpu.js's types,
 * so the package's public declarations can export these without gpu.js installed.
 */
import { requireHeadlessGl } from '../../runtime.js';

/** The GPU.js modes this backend knows. `webgl`/`webgl2` need a browser; `webgpu` is refused (load.ts). */
export const GPUJS_MODES = ['headlessgl', 'webgl2', 'webgl', 'webgpu', 'webasm', 'cpu'] as const;
export type GpuJsMode = (typeof GPUJS_MODES)[number];

/** Why headless-gl is unavailable, and what to install. */
export function headlessGlMessage(): string {
  let reason: string;
  try {
    requireHeadlessGl(); // gpu.js's optional dependency, resolved from there as gpu.js does
    reason = `the 'gl' package loads but cannot create a WebGL context (no X display: run under Xvfb)`;
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    reason = `the 'gl' package is not built or not installed (${msg})`;
  }
  return (
    `gpujs backend: mode 'headlessgl' is unavailable: ${reason}. ` +
    `To build 'gl' on Debian/Ubuntu: apt-get install build-essential python3 pkg-config libxi-dev libx11-dev ` +
    `libxext-dev libgl1-mesa-dev mesa-common-dev, then \`pnpm rebuild gl\` (pnpm 10 skips its build script ` +
    `unless approved: \`pnpm approve-builds\`). To run without a display: apt-get install xvfb, then ` +
    `\`xvfb-run -s "-ac -screen 0 1280x1024x24" <command>\`. Or choose mode 'webasm'`
  );
}
