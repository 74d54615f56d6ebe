// When a progress update is worth a store write: when it moved by the threshold, or when the
// heartbeat interval passed with anything changed. The first update always is.
import type { ProgressFields } from '../../machines/job-record.js';

export interface ThrottleOptions {
  /** Percent of movement that earns a write. */
  progressThreshold: number;
  /** Milliseconds after which any change earns a write. */
  heartbeatMs: number;
}

export interface Written {
  fields: ProgressFields;
  atMs: number;
}

export function shouldWrite(last: Written | null, next: ProgressFields, nowMs: number, options: ThrottleOptions): boolean {
  if (last === null) return true;
  // Becoming known (null → a number) is worth a write; so is moving past the threshold.
  if (next.progress !== null && (last.fields.progress === null || next.progress - last.fields.progress >= options.progressThreshold)) return true;
  return nowMs - last.atMs >= options.heartbeatMs && changed(last.fields, next);
}

function changed(a: ProgressFields, b: ProgressFields): boolean {
  return (Object.keys(a) as (keyof ProgressFields)[]).some((key) => a[key] !== b[key]);
}
