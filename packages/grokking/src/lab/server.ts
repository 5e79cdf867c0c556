/**
 * The lab's web server: serves the bundle from memory on localhost with the two headers that make the page
 * cross-origin isolated (COOP `same-origin`, COEP `require-corp`), without which a browser gives no
 * SharedArrayBuffer and the wasm backend runs on one thread.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LabFiles } from './build.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface LabServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `files` on host:port (port 0: any free port); resolves once it listens. `isolate: false` leaves the
 * COOP/COEP headers out, as a plain static host would (tests use it to see the one-thread fallback).
 */
export function serveLab(files: LabFiles, options: { host?: string; port?: number; isolate?: boolean } = {}): Promise<LabServer> {
  const isolation = options.isolate === false ? {} : ISOLATION_HEADERS;
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://lab').pathname).replace(/^\/+/, '') || 'index.html';
    const body = files.get(name);
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !body) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'Content-Type': 'text/plain; charset=utf-8', ...isolation });
      res.end(body ? 'method not allowed\n' : `not found: /${name}\n`);
      return;
    }
    const type = TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.byteLength, 'Cache-Control': 'no-store', ...isolation });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      const { address, port } = server.address() as AddressInfo;
      const host = address.includes(':') ? `[${address}]` : address;
      resolve({
        url: `http://${host}:${port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
