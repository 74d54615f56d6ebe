// The encsup package itself: its folder (the first above this module whose package.json is
// encsup's) and its version. Found by walking up, so the same from the sources (src/), the build
// (dist/src/) and the bundled executable (dist/bin/chunks/), which sit at different depths. The
// files it ships beside its code (the dashboard's pages, the farm's guard script, the native part)
// are found from here.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface EncsupPackage {
  root: string;
  version: string;
}

let found: EncsupPackage | null | undefined;

function encsupPackage(): EncsupPackage | null {
  if (found !== undefined) return found;
  let folder = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(folder, 'package.json');
    if (existsSync(candidate)) {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'encsup' && pkg.version) return (found = { root: folder, version: pkg.version });
    }
    const parent = dirname(folder);
    if (parent === folder) return (found = null);
    folder = parent;
  }
}

export function encsupVersion(): string {
  return encsupPackage()?.version ?? 'unknown';
}

/** A path inside the package, where it exists; null where it does not (or no package was found). */
export function packageFile(...segments: string[]): string | null {
  const root = encsupPackage()?.root;
  if (root === undefined) return null;
  const path = join(root, ...segments);
  return existsSync(path) ? path : null;
}
