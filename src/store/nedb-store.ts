// The default store: one nedb-promises file in the data folder. The only file that imports nedb.
// Each job is kept as its JSON text, so nedb's rules for field names (no `.`, no leading `$`)
// never meet a job's environment variables.
import Datastore from 'nedb-promises';
import type { Job } from '../../machines/job-record.js';
import type { JobStore, LoadedJobs } from './job-store.js';

interface JobDocument {
  _id: string;
  status: string;
  json: string;
}

interface Compaction {
  setAutocompactionInterval(ms: number): void;
  stopAutocompaction(): void;
  compactDatafileAsync(): Promise<void>;
}

// nedb rewrites its append-only file on this period, so progress updates don't grow it forever.
const COMPACT_EVERY_MS = 10 * 60 * 1000;

export async function openNedbStore(filename: string): Promise<JobStore> {
  // Tolerate any number of unreadable lines: losing the good records to refuse one bad line
  // would be worse. Unreadable lines are counted and reported by loadAll.
  const db = Datastore.create({ filename, autoload: false, corruptAlertThreshold: 1 });
  await db.load();
  // nedb-promises leaves these out of its types; call them on the wrapped @seald-io/nedb
  // datastore itself, since setting fields through nedb-promises' proxy fails.
  const compaction = (db as unknown as { __original: Compaction }).__original;
  compaction.setAutocompactionInterval(COMPACT_EVERY_MS);
  return {
    async loadAll(): Promise<LoadedJobs> {
      const docs = await db.find<JobDocument>({});
      const jobs: Job[] = [];
      const problems: string[] = [];
      for (const doc of docs) {
        try {
          jobs.push(JSON.parse(doc.json) as Job);
        } catch {
          problems.push(`job ${doc._id}: its stored record is not valid JSON`);
        }
      }
      return { jobs, problems };
    },
    async put(job: Job): Promise<void> {
      await db.update<JobDocument>({ _id: job.id }, { _id: job.id, status: job.status, json: JSON.stringify(job) }, { upsert: true });
    },
    async close(): Promise<void> {
      compaction.stopAutocompaction();
      await compaction.compactDatafileAsync();
    },
  };
}
