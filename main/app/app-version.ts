// The app's version for --version and reports: package.json next to (or above) the bundle.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function findAppVersion(startDir: string, name = 'spice-viewer'): string {
  let dir = startDir;
  for (let i = 0; i < 4; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p)) {
      try {
        const pkg = JSON.parse(readFileSync(p, 'utf8')) as { name?: string; version?: string };
        if (pkg.name === name && pkg.version) return pkg.version;
      } catch {}
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}
