// What went wrong in a failed attempt, as a kind with a retry rule, so a corrupt input is not run
// three times like a full disk. The kinds and the default rules are one table; the operator can
// override a rule per kind (--retry-rules). The classifier that reads the evidence is in
// src/failures/classify.ts; this file is data the job machine decides by.

export const FAILURE_KINDS = [
  'input-missing',
  'corrupt-input',
  'unsupported',
  'output-unwritable',
  'disk-full',
  'hardware-busy',
  'out-of-memory',
  'killed',
  'stalled',
  'timed-out',
  'output-check',
  'interrupted',
  'unknown',
] as const;
export type FailureKind = (typeof FAILURE_KINDS)[number];

/**
 * never: the same command fails the same way, so the job fails now (retry it by hand once fixed);
 * backoff: tried again after the backoff; other-device: tried again after the backoff, on another
 * GPU where the box has one free; disk-space: tried again once the output folder has --min-free.
 */
export const RETRY_RULES = ['never', 'backoff', 'other-device', 'disk-space'] as const;
export type RetryRule = (typeof RETRY_RULES)[number];

export const DEFAULT_RETRY_RULES: Readonly<Record<FailureKind, RetryRule>> = {
  'input-missing': 'never',
  'corrupt-input': 'never',
  unsupported: 'never',
  'output-unwritable': 'never',
  'disk-full': 'disk-space',
  'hardware-busy': 'other-device',
  'out-of-memory': 'backoff',
  killed: 'backoff',
  stalled: 'backoff',
  'timed-out': 'backoff',
  'output-check': 'backoff',
  interrupted: 'backoff',
  unknown: 'backoff',
};

/** What each kind means, for the README's table and the dashboard. */
export const FAILURE_MEANING: Readonly<Record<FailureKind, string>> = {
  'input-missing': 'an input file is not there or cannot be read',
  'corrupt-input': 'an input is damaged or truncated (no moov atom, invalid data)',
  unsupported: 'an unknown encoder, codec or option',
  'output-unwritable': 'the output folder is missing, read-only or not ours to write',
  'disk-full': 'no space left on the output\'s disk',
  'hardware-busy': 'a GPU encoder or decoder could not start: NVENC session limit, CUDA/VAAPI/QSV init',
  'out-of-memory': 'killed by the kernel for memory, or an allocation failed',
  killed: 'ended by a signal from outside encsup',
  stalled: 'printed nothing new for the stall timeout (encsup ended it)',
  'timed-out': 'ran past its timeout (encsup ended it)',
  'output-check': 'the encoder exited 0 but its output failed the check',
  interrupted: 'the daemon stopped while it ran',
  unknown: 'a failure none of the patterns recognise',
};

/** A failed attempt's kind and the line of its output that shows it (null where none does). */
export interface FailureEvidence {
  kind: FailureKind;
  evidence: string | null;
}
