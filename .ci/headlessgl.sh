#!/usr/bin/env bash
# Optional CI step: GPU.js's headlessgl mode, for real. Installs what the native 'gl' package (headless-gl)
# needs to build and run, builds it with node-gyp, then runs the gpujs parity and training tests in
# headlessgl mode under Xvfb (Mesa's software OpenGL, so no GPU is needed).
#
# - If the system packages cannot be installed or gl does not build, the step says so, shows the end of the
#   log, and is skipped (exit 0): gl is optional, and `pnpm install` never builds it (pnpm 10 runs no
#   dependency build scripts unless approved, and we do not approve gl's: it compiles ANGLE for minutes).
# - Once gl is built, the headlessgl tests must pass: GROK_REQUIRE_HEADLESSGL=1 turns their skip into a failure.
#
# Run it locally (as root, on Debian/Ubuntu) after `pnpm install`: .ci/headlessgl.sh
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp -t headlessgl-XXXXXX.log)
skip() {
  echo "== headlessgl: SKIPPED: $1 (full log: $log)"
  tail -n 25 "$log" | sed 's/^/   | /'
  exit 0
}

echo "== headlessgl: system packages"
pkgs="build-essential python3 pkg-config libxi-dev libx11-dev libxext-dev libgl1-mesa-dev mesa-common-dev libglew-dev xvfb xauth"
# shellcheck disable=SC2086
if ! dpkg -s $pkgs >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs) >>"$log" 2>&1 ||
    skip "apt-get install of $pkgs failed"
fi

# gl is gpu.js's optional dependency: find it from there, as gpu.js does.
gl_dir=$(cd packages/tensor && node -e "
  const { createRequire } = require('node:module');
  const fromGpuJs = createRequire(require.resolve('gpu.js'));
  console.log(require('node:path').dirname(fromGpuJs.resolve('gl/package.json')));" 2>>"$log") ||
  skip "the optional 'gl' package is not installed (pnpm install skipped it?)"

started=$SECONDS
if [ -f "$gl_dir/build/Release/webgl.node" ]; then
  echo "== headlessgl: gl is already built in $gl_dir"
else
  echo "== headlessgl: building gl in $gl_dir (node-gyp, compiles ANGLE: several minutes)"
  # Node's headers: Debian's nodejs ships them; otherwise node-gyp downloads them.
  nodedir=()
  [ -f /usr/include/node/node.h ] && nodedir=(--nodedir=/usr)
  (cd "$gl_dir" && node_modules/.bin/node-gyp rebuild "${nodedir[@]}" -j "$(nproc)") >>"$log" 2>&1 ||
    skip "building gl failed"
  echo "   gl built in $((SECONDS - started)) s"
fi

echo "== headlessgl: gpujs parity and training tests (mode headlessgl, under Xvfb)"
GROK_REQUIRE_HEADLESSGL=1 xvfb-run -a -s "-ac -screen 0 1280x1024x24" \
  pnpm exec vitest run --project tensor --project transformer -t headlessgl \
  packages/tensor/test/gpujs-parity.test.ts packages/transformer/test/gpujs-training.test.ts
