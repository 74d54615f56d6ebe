// A stored job record read back: parsed, brought up to today's field names (records written by
// earlier versions), and checked field by field, so a hostile or damaged record never becomes a job.
import type { Attempt, Job } from '../../machines/job-record.js';
import { DEFAULT_NEEDS } from '../../machines/resources.js';
import { jobKind } from '../forecast/job-kind.js';
import { checkRecord } from './record-schema.js';

/** Names that records written before version 0.2 used. */
interface OldFieldNames {
  attemptsBeforeRetry?: number;
  progressWrites?: number;
}

/** A stored record as a job, upgraded from older versions and checked field by field. */
export function readRecord(json: unknown): { ok: true; job: Job } | { ok: false; reason: string } {
  let record: unknown;
  try {
    record = JSON.parse(String(json));
  } catch {
    return { ok: false, reason: 'its stored record is not valid JSON' };
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) return { ok: false, reason: 'its stored record is not an object' };
  return checkRecord(upgradeRecord(record as Job & OldFieldNames));
}

function upgradeRecord(record: Job & OldFieldNames): Job {
  const { attemptsBeforeRetry, progressWrites, ...job } = record;
  return {
    ...job,
    attemptsBeforeManualRetry: job.attemptsBeforeManualRetry ?? attemptsBeforeRetry ?? 0,
    progressUpdates: job.progressUpdates ?? progressWrites ?? 0,
    pass: job.pass ?? null,
    passes: job.passes ?? null,
    basis: job.basis ?? null,
    kind: typeof job.kind === 'string' ? job.kind : job.external ? 'external' : jobKind(Array.isArray(job.command) ? job.command.map(String) : [], job.shell === true),
    declaredPasses: job.declaredPasses ?? null,
    clientId: job.clientId ?? null,
    webhook: job.webhook ?? null,
    mediaSeconds: job.mediaSeconds ?? null,
    passStartSeconds: job.passStartSeconds ?? null,
    runSeconds: job.runSeconds ?? null,
    waitForReplacement: job.waitForReplacement ?? false,
    terminal: job.terminal ?? 'auto',
    failureKind: job.failureKind ?? null,
    failureEvidence: job.failureEvidence ?? null,
    history: Array.isArray(job.history) ? job.history.map((attempt: Partial<Attempt>) => ({ ...attempt, failureKind: attempt.failureKind ?? null, evidence: attempt.evidence ?? null }) as Attempt) : job.history,
    needs: job.needs ?? { ...DEFAULT_NEEDS },
    gpus: job.gpus ?? null,
  };
}
