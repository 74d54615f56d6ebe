// Paths between the farm and this host. Hosts reach inputs and outputs through shared storage that
// may be mounted in different places (a NAS at /mnt/nas on Linux nodes, /Volumes/nas on a Mac):
// `--path-map /mnt/nas=/Volumes/nas` says the farm writes /mnt/nas where this host has /Volumes/nas.
// Records in the database hold farm paths; each host's book holds its own. Pure: applied where
// records cross between the two (the PostgreSQL store).
import type { Job } from '../../machines/job-record.js';

export interface PathMapping {
  /** The folder as the farm (the database) names it. */
  farm: string;
  /** The same folder on this host. */
  local: string;
}

/** `FARM=LOCAL` pairs, as --path-map takes them; a problem names the pair that is wrong. */
export function parsePathMaps(pairs: string[]): { ok: true; maps: PathMapping[] } | { ok: false; problem: string } {
  const maps: PathMapping[] = [];
  for (const pair of pairs) {
    const [farm, local, extra] = pair.split('=');
    if (extra !== undefined || !farm || !local) return { ok: false, problem: `${pair}: expected FARM=LOCAL, e.g. /mnt/nas=/Volumes/nas` };
    if (!farm.startsWith('/') || !local.startsWith('/')) return { ok: false, problem: `${pair}: both folders must be absolute paths` };
    maps.push({ farm: trimSlash(farm), local: trimSlash(local) });
  }
  return { ok: true, maps };
}

/** A job as this host sees it: farm folders replaced by their local mount points. */
export function toLocalPaths(job: Job, maps: readonly PathMapping[]): Job {
  return maps.length === 0 ? job : translate(job, localPathMapper(maps));
}

/** A job as the farm holds it: this host's mount points replaced by the farm's names. */
export function toFarmPaths(job: Job, maps: readonly PathMapping[]): Job {
  return maps.length === 0 ? job : translate(job, pathMapper(maps.map((map) => [map.local, map.farm])));
}

/**
 * Paths as this host sees them, one at a time, the patterns made once: a start maps the paths of
 * a hundred thousand finished jobs (a pattern made per path was 0.44 s of it).
 */
export function localPathMapper(maps: readonly PathMapping[]): (text: string) => string {
  return maps.length === 0 ? (text) => text : pathMapper(maps.map((map) => [map.farm, map.local]));
}

/** One path (or a word holding one, such as `-i=/mnt/nas/a.mp4`), its folder replaced. */
export function mapPath(text: string, pairs: readonly (readonly [string, string])[]): string {
  return pathMapper(pairs)(text);
}

/** mapPath for these pairs, the first whose folder the text names winning. */
function pathMapper(pairs: readonly (readonly [string, string])[]): (text: string) => string {
  const folders = pairs.map(([from, to]) => {
    // Only a whole folder: /mnt/nas2 is not inside /mnt/nas.
    // Global, for the replace; a test that fails leaves it at the start, and a replace does too.
    return { pattern: new RegExp(`(^|[\\s='":,])${escape(from)}(?=/|$|[\\s'":,])`, 'g'), to };
  });
  return (text) => {
    for (const { pattern, to } of folders) {
      if (pattern.test(text)) return text.replace(pattern, (_, before: string) => `${before}${to}`);
    }
    return text;
  };
}

function translate(job: Job, map: (text: string) => string): Job {
  return {
    ...job,
    cwd: map(job.cwd),
    output: job.output === null ? null : map(job.output),
    command: job.command.map(map),
    env: Object.fromEntries(Object.entries(job.env).map(([name, value]) => [name, map(value)])),
  };
}

function trimSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') : path;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
