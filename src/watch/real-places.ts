// What below a watched folder is watched: its real files and folders, never a symbolic link.
// chokidar follows links, so a link to its own folder (`ln -s . latest`) made it watch
// latest/latest/latest/... down to the kernel's limit on links, and two such links made that
// exponential: a daemon that never finished starting, past 700 MB and climbing; a link to a folder
// elsewhere (`ln -s / all`) would have had it watch the whole disk, and report files from outside
// every watched folder. An entry is watched where it really is: its real path must be its own path
// with the watched folder's real path in front (a watched folder may itself be a link, as
// /renders to /mnt/nas/renders). Files are reported at the path they were found at, below the
// folder as it was named, so a job names its output as it names the folder.

import { isInsideFolder } from './reported-output.js';

/** The deepest of the watched folders that is the path or holds it. */
export function watchedFolderOf(folders: readonly string[], path: string): string | undefined {
  let found: string | undefined;
  for (const folder of folders) {
    if ((path === folder || isInsideFolder(path, folder)) && (found === undefined || folder.length > found.length)) found = folder;
  }
  return found;
}

export interface WatchedRoot {
  /** The folder as given (--watch), resolved. */
  path: string;
  /** Its real path. */
  real: string;
}

/**
 * A test for chokidar's `ignored`: true for an entry that is not where its path says (a link, or
 * below one), or that cannot be resolved at all (dangling, looping, gone). `realpathOf` returns
 * null when a path cannot be resolved.
 */
export function notARealPlace(roots: readonly WatchedRoot[], realpathOf: (path: string) => string | null): (path: string) => boolean {
  const realOf = new Map(roots.map((root) => [root.path, root.real]));
  const folders = [...realOf.keys()];
  return (path) => {
    const folder = watchedFolderOf(folders, path);
    if (folder === undefined) return true;
    const real = realpathOf(path);
    return real === null || real !== realOf.get(folder)! + path.slice(folder.length);
  };
}
