/**
 * `pnpm grok lab`: bundles the lab and serves it on localhost (printing the URL) until Ctrl-C;
 * `pnpm grok lab --build DIR` writes it as a static site instead. --port N picks the port (default 8113,
 * or any free one if that is taken); --host the interface (default 127.0.0.1).
 */
import type { ParsedArgs } from '../args.js';
import { bundleLab, writeLab } from './build.js';
import { serveLab } from './server.js';

const DEFAULT_PORT = 8113;

export async function runLab(args: ParsedArgs): Promise<void> {
  const out = (line: string) => process.stdout.write(line + '\n');
  const port = parsePort(args.general.port); // (before the bundling, so that a typo fails at once)
  const files = await bundleLab();
  const dir = args.general.build;
  if (dir !== undefined) {
    const written = writeLab(dir, files);
    out(`grok: the lab is in ${dir} (${written.join(', ')}). Any static host serves it; for worker threads it must ` +
      `send COOP same-origin and COEP require-corp (the _headers file says so to Netlify and Cloudflare Pages); without ` +
      `them the wasm backend runs on one thread and says so.`);
    return;
  }
  const host = args.general.host ?? '127.0.0.1';
  let server;
  try {
    server = await serveLab(files, { host, port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || args.general.port !== undefined) throw new Error(`lab: cannot listen on ${host}:${port} (${(e as Error).message})`);
    server = await serveLab(files, { host, port: 0 }); // the default port is taken: any free one
  }
  out(`grok: the lab is at ${server.url}  (p = 23 groks within a minute; choose p = 113 for the paper's run). Ctrl-C stops it.`);
  await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await server.close();
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port must be a port number from 0 to 65535, got '${text}'`);
  return n;
}
