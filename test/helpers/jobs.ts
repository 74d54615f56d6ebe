// Job records for tests that need one without going through the API.
import { join } from 'node:path';
import type { Job } from '../../machines/job-record.js';
import { newJobRecord } from '../../src/jobs/submission.js';
import { openFileStore } from '../../src/store/file-store.js';

/** A job record; one attempt unless the test says otherwise, so a failure is final. */
export function aJob(id: string, overrides: Partial<Job> = {}): Job {
  return { ...newJobRecord({ command: ['ffmpeg', '-i', 'in.mp4', 'out.mp4'] }, id, '2026-01-01T00:00:00.000Z', '/tmp'), maxAttempts: 1, ...overrides };
}

const FINISHED_MIX: Job['status'][] = ['done', 'done', 'done', 'done', 'done', 'done', 'done', 'failed', 'cancelled', 'done'];

/**
 * Fills a data folder's store with `count` finished jobs (mostly done, some failed or cancelled),
 * one finishing each minute before `until`, as a farm's history looks: for views of thousands.
 */
export async function seedFinishedJobs(dataDir: string, count: number, until = Date.now()): Promise<void> {
  const store = await openFileStore(join(dataDir, 'jobs.db'), { durable: false });
  const base = newJobRecord({ command: ['ffmpeg', '-i', 'in.mp4', 'out.mp4'] }, 'x', '2026-01-01T00:00:00.000Z', '/tmp');
  const batch: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const status = FINISHED_MIX[i % FINISHED_MIX.length]!;
    const finishedAt = new Date(until - (count - i) * 60_000).toISOString();
    const number = String(i).padStart(5, '0');
    batch.push(
      store.put({
        ...base,
        id: `seed${number}`,
        name: `archive clip ${number}`,
        command: ['ffmpeg', '-i', `in/clip${number}.mov`, '-c:v', 'libx264', `out/clip${number}.mp4`],
        output: `/srv/out/clip${number}.mp4`,
        status,
        progress: status === 'done' ? 100 : 40,
        error: status === 'failed' ? 'ffmpeg exited with code 1' : null,
        createdAt: new Date(Date.parse(finishedAt) - 120_000).toISOString(),
        startedAt: new Date(Date.parse(finishedAt) - 90_000).toISOString(),
        finishedAt,
        updatedAt: finishedAt,
      }),
    );
    if (batch.length === 500) await Promise.all(batch.splice(0));
  }
  await Promise.all(batch);
  await store.close();
}
