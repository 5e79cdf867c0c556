import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// Tests import the workspace packages from their TypeScript sources, so `vitest` never
// depends on a stale `dist/`. (The scratch-project test checks the built packages separately.)
const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));
const alias = {
  '@grok/tensor': src('tensor'),
  '@grok/autograd': src('autograd'),
  '@grok/transformer': src('transformer'),
  '@grok/grokking': src('grokking'),
};
const project = (name: string) => ({
  resolve: { alias },
  test: { name, include: [`packages/${name}/test/**/*.test.ts`], testTimeout: 60_000 },
});

export default defineConfig({
  test: {
    projects: ['tensor', 'autograd', 'transformer', 'grokking'].map(project),
  },
});
