// Job records for tests that need one without going through the API.
import type { Job } from '../../machines/job-record.js';
import { newJobRecord } from '../../src/jobs/submission.js';

/** A job record; one attempt unless the test says otherwise, so a failure is final. */
export function aJob(id: string, overrides: Partial<Job> = {}): Job {
  return { ...newJobRecord({ command: ['ffmpeg', '-i', 'in.mp4', 'out.mp4'] }, id, '2026-01-01T00:00:00.000Z', '/tmp'), maxAttempts: 1, ...overrides };
}
