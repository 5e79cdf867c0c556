// Run in a package directory (its `prepack`): deletes every file in dist/ that no file in src/ produces any
// more (what a renamed or deleted source leaves behind: `tsc -b` never removes old outputs), so a packed
// tarball holds only current code. Up-to-date outputs are left alone, so this is safe while tests read dist/.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';

const OUTPUT = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else yield path;
  }
}

if (existsSync('dist')) {
  for (const file of files('dist')) {
    const rel = relative('dist', file);
    if (!OUTPUT.test(rel)) continue; // .tsbuildinfo and the like: not packed (see `files`)
    const source = join('src', rel.replace(OUTPUT, '.ts'));
    if (!existsSync(source)) {
      rmSync(file);
      console.log(`removed stale ${file}`);
    }
  }
}
