/**
 * Bundles the lab for the browser with esbuild: the page (page/main.ts) and the training worker
 * (worker/main.ts), each one ES module with everything it imports (vega, gpu.js, our packages), plus
 * index.html. esbuild reads package.json's "browser" fields, which swap our few Node-only files (runtime,
 * checkpoint files, JSON files) for their browser twins. The bundle is made from the compiled package
 * (dist/), so `tsc -b` comes first (`pnpm grok` runs it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { labHtml } from './page-html.js';

/** The lab's files: name → contents. */
export type LabFiles = Map<string, Uint8Array>;

/** Where tsc puts the lab's compiled modules (the same path from src/lab and from dist/lab). */
const COMPILED = fileURLToPath(new URL('../../dist/lab/', import.meta.url));

export async function bundleLab(options: { minify?: boolean } = {}): Promise<LabFiles> {
  const entries = { lab: path.join(COMPILED, 'page/main.js'), worker: path.join(COMPILED, 'worker/main.js') };
  for (const file of Object.values(entries)) {
    if (!fs.existsSync(file)) throw new Error(`lab: ${file} is missing: compile the packages first (npx tsc -b; pnpm grok does it)`);
  }
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: entries,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: 'lab', // (a name only: write: false keeps the files in memory)
    write: false,
    minify: options.minify ?? true,
    sourcemap: 'linked',
    logLevel: 'silent',
  });
  for (const w of result.warnings) process.stderr.write(`lab: esbuild: ${w.text}\n`);
  const files: LabFiles = new Map([['index.html', new TextEncoder().encode(labHtml())]]);
  for (const out of result.outputFiles) files.set(path.basename(out.path), out.contents);
  return files;
}

/** Headers for static hosts that read a `_headers` file (Netlify, Cloudflare Pages): cross-origin isolation. */
export const HEADERS_FILE = `/*
  Cross-Origin-Opener-Policy: same-origin
  Cross-Origin-Embedder-Policy: require-corp
  Cross-Origin-Resource-Policy: same-origin
`;

/** Writes the lab into `dir` as a static site (index.html, lab.js, worker.js, their maps, _headers). */
export function writeLab(dir: string, files: LabFiles): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const written = [...files].map(([name, bytes]) => {
    fs.writeFileSync(path.join(dir, name), bytes);
    return name;
  });
  fs.writeFileSync(path.join(dir, '_headers'), HEADERS_FILE);
  return [...written, '_headers'];
}
