// The classifier against what real encoders printed when they failed (recorded by
// scripts/record-failure-fixtures.sh): fed as the runner feeds it, the lines kept aside as evidence
// and the tail, each recording gets the kind it was recorded for.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { classifyFailure, mayBeEvidence } from '../src/failures/classify.js';
import { LOG_TAIL_LINES } from '../machines/job-record.js';

const folder = new URL('./fixtures/failures/', import.meta.url);
const manifest = readFileSync(new URL('manifest.tsv', folder), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((row) => {
    const [file, kind, exit, command] = row.split('\t');
    return { file: file!, kind: kind!, exitCode: Number(exit), command: command!.trim().split(' ') };
  });

test('every recorded failure of ffmpeg, HandBrakeCLI, x264, x265 and SvtAv1EncApp is classified as what it was', () => {
  assert.ok(manifest.length >= 20, 'the recordings are there');
  const wrong: string[] = [];
  for (const recording of manifest) {
    const lines = readFileSync(new URL(recording.file, folder), 'utf8').split('\n');
    const evidence = lines.filter(mayBeEvidence).slice(-20);
    const failure = classifyFailure({
      exitCode: recording.exitCode,
      signal: null,
      terminationReason: null,
      lines: [...evidence, ...lines.slice(-LOG_TAIL_LINES)],
      command: recording.command,
      cwd: '/srv/media',
      output: null,
      oomKilled: false,
      outputFreeBytes: null,
    });
    if (failure.kind !== recording.kind) wrong.push(`${recording.file}: ${failure.kind} (${failure.evidence})`);
  }
  assert.equal(wrong, []);
});

test.run();
