// What a farm host's name and labels may be: short, plain words that are safe in a URL path, a log
// line and a SQL parameter, and that `--on` can name.
import { hostname } from 'node:os';

export const HOST_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

/** The machine's name, cut to what a host name may be (`--host-name` overrides it). */
export function defaultHostName(): string {
  const name = hostname().split('.')[0]!.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63);
  return HOST_NAME_PATTERN.test(name) ? name : 'encsup-host';
}
