/**
 * The lab's Node-side and pure parts: the settings a URL or the form gives (and the messages for bad ones),
 * the live phase, the checkpoint bytes it downloads (opened by the CLI's loader), and the server's headers.
 * The page itself runs in lab-browser.test.ts.
 */
import { HookedTransformer, loadCheckpoint, paperConfig } from '@grok/transformer';
import { describe, expect, it } from 'vitest';
import { PAPER_CONFIG } from '../src/config.js';
import { phaseNow } from '../src/lab/phase-now.js';
import { DEFAULT_SETTINGS, LabInputError, PAPER_SETTINGS, parseSettings, runConfigOf, settingsQuery } from '../src/lab/settings.js';
import { checkpointFile, openCheckpoint } from '../src/lab/worker/checkpoint-io.js';
import { serveLab } from '../src/lab/server.js';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI (`tsc -b` first, as `pnpm test` does). */
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

const params = (q: string) => new URLSearchParams(q);

describe('lab settings', () => {
  it("are the quick demo's by default, the paper's config in the paper preset, and URL parameters change them", () => {
    const { settings, autorun } = parseSettings(params(''));
    expect(settings).toEqual(DEFAULT_SETTINGS);
    expect(autorun).toBeNull();
    const config = runConfigOf(settings);
    expect({ ...config, p: 113, frac_train: 0.3, lr: 1e-3 }).toEqual(PAPER_CONFIG);
    expect([config.p, config.frac_train, config.lr]).toEqual([23, 0.7, 3e-3]);
    expect(runConfigOf(PAPER_SETTINGS)).toEqual(PAPER_CONFIG);

    const r = parseSettings(params('autorun=50&backend=webgl2&p=7&seed=3&grokfast=1&fixed_norm=40&threads=2'));
    expect(r.autorun).toBe(50);
    expect(r.settings).toMatchObject({ backend: 'webgl2', p: 7, seed: 3, grokfast: true, fixed_norm: 40, threads: 2 });
    expect(runConfigOf(r.settings).grokfast).toEqual({ kind: 'ema' });
    expect(parseSettings(params(settingsQuery(r.settings))).settings).toEqual(r.settings);
  });

  it('refuse bad values with one message naming each', () => {
    const bad = (q: string) => {
      try {
        parseSettings(params(q));
      } catch (e) {
        expect(e).toBeInstanceOf(LabInputError);
        return (e as Error).message;
      }
      throw new Error(`accepted ${q}`);
    };
    expect(bad('backend=tpu&autorun=-1')).toBe("backend = 'tpu' is not one of wasm, webgl2, cpu; autorun = '-1' must be a whole number of steps ≥ 1");
    expect(bad('p=24')).toBe('p = 24 must be a prime number ≤ 1021');
    expect(bad('frac_train=1.5')).toBe('frac_train = 1.5 must lie strictly between 0 and 1');
    expect(bad('p=x')).toBe("p = 'x' must be a prime number");
    expect(bad('colour=red')).toMatch(/^unknown parameter 'colour' \(known: backend, threads, p, /);
  });
});

describe('lab phase', () => {
  const row = (step: number, trainLoss: number, testLoss: number) => ({ step, trainLoss, testLoss });
  it('follows the run through memorisation, circuit formation, cleanup and grokked', () => {
    const rows = [row(0, 4.7, 4.7), row(100, 0.01, 6), row(200, 0.001, 8)];
    expect(phaseNow(rows, 113).current).toBe('memorisation');
    rows.push(row(300, 0.001, 7.9));
    expect(phaseNow(rows, 113).current).toBe('circuit formation');
    rows.push(row(400, 0.001, 0.3), row(500, 0.001, 0.02));
    const cleanup = phaseNow(rows, 113);
    expect(cleanup.current).toBe('cleanup');
    expect(cleanup.bands.map((b) => [b.name, b.start, b.end])).toEqual([['memorisation', 0, 200], ['circuit formation', 200, 400], ['cleanup', 400, 500]]);
    rows.push(row(600, 0.001, 0.001));
    expect(phaseNow(rows, 113).current).toBe('cleanup'); // a new low: the floor may be lower still
    rows.push(row(700, 0.001, 0.0012));
    const grokked = phaseNow(rows, 113);
    expect(grokked.current).toBe('grokked');
    expect(grokked.bands.at(-1)).toEqual({ name: 'cleanup', start: 400, end: 600 });
  });
});

describe('lab checkpoints', () => {
  it('download as a file that the CLI loader opens, with the model and run config, and open back', () => {
    const config = runConfigOf({ ...DEFAULT_SETTINGS, p: 7 });
    const model = new HookedTransformer(paperConfig(7, { seed: 0 }));
    const { name, bytes } = checkpointFile(model, 12, config);
    expect(name).toBe('lab-p7-seed0-step000012.safetensors');
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-')), name);
    fs.writeFileSync(file, bytes);
    const ckpt = loadCheckpoint(file);
    expect(ckpt.step).toBe(12);
    expect(ckpt.extra?.['run_config']).toEqual(config);
    expect(ckpt.config).toEqual(model.cfg);
    expect(ckpt.tensors['embed.W_E']!.data).toEqual(model.embed.W_E.data);

    const opened = openCheckpoint(name, bytes);
    expect(opened.note).toBeNull();
    expect(opened.split.train.length).toBe(Math.floor(0.7 * 49));
    expect(() => openCheckpoint('junk.safetensors', new Uint8Array(100))).toThrow(/^junk.safetensors is not a checkpoint the lab can open: /);
  });
});

describe('lab server', () => {
  it('sends the cross-origin isolation headers, and 404 for unknown paths', async () => {
    const server = await serveLab(new Map([['index.html', new TextEncoder().encode('<p>hi</p>')]]));
    try {
      const res = await fetch(server.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(res.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
      expect(await res.text()).toBe('<p>hi</p>');
      expect((await fetch(server.url + 'nope.js')).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe('pnpm grok lab', () => {
  it('--build DIR writes the static site', () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lab-site-')), 'site');
    const r = spawnSync(process.execPath, [cli, 'lab', '--build', dir], { encoding: 'utf8', timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^grok: the lab is in /);
    expect(fs.readdirSync(dir).sort()).toEqual(['_headers', 'index.html', 'lab.js', 'lab.js.map', 'worker.js', 'worker.js.map']);
    expect(fs.readFileSync(path.join(dir, '_headers'), 'utf8')).toMatch(/Cross-Origin-Embedder-Policy: require-corp/);
    expect(fs.readFileSync(path.join(dir, 'index.html'), 'utf8')).toMatch(/<script type="module" src="lab.js"><\/script>/);
  }, 120_000);

  it('serves the page and prints its URL, until stopped', async () => {
    const child = spawn(process.execPath, [cli, 'lab', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const m = /the lab is at (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
      });
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
      expect(await res.text()).toMatch(/<title>grok lab/);
      expect((await fetch(url + 'worker.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    } finally {
      child.kill('SIGINT');
    }
    const code = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
    expect(code).toBe(0);
  }, 120_000);

  it('refuses a bad port', () => {
    const r = spawnSync(process.execPath, [cli, 'lab', '--port', 'eighty'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--port must be a port number from 0 to 65535, got 'eighty'/);
  });
});
