import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ConfigError, resolveConfig, settingFlags } from '../src/config.js';
import { cli } from './helpers/cli.js';

test('defaults apply when nothing is set', () => {
  const config = resolveConfig({}, {});
  assert.is(config.port, 8787);
  assert.is(config.host, '127.0.0.1');
  assert.is(config.maxConcurrent, 2);
  assert.is(config.progressThreshold, 1);
  assert.is(config.trackProgress, true);
  assert.ok(config.dataDir.endsWith('/.encsup'));
});

test('flags win over the environment, which wins over defaults', () => {
  const env = { ENCSUP_MAX_CONCURRENT: '4', ENCSUP_PORT: '9000' };
  const config = resolveConfig({ maxConcurrent: '6' }, env);
  assert.is(config.maxConcurrent, 6);
  assert.is(config.port, 9000);
});

test("the original system's VIDEO_PROCESSING_* names are read as aliases", () => {
  const config = resolveConfig({}, {
    ENCSUP_OUTPUT_DIR: '/srv/renders',
    VIDEO_PROCESSING_MAX_CONCURRENT: '0',
    VIDEO_PROCESSING_PROGRESS_THRESHOLD: '2.5',
    VIDEO_PROCESSING_TRACK_PROGRESS: 'false',
    VIDEO_PROCESSING_FILE_WATCHER: 'true',
    VIDEO_PROCESSING_WATCHER_INTERVAL: '5',
  });
  assert.is(config.maxConcurrent, 0);
  assert.is(config.progressThreshold, 2.5);
  assert.is(config.trackProgress, false);
  assert.is(config.fileWatcher, true);
  assert.is(config.watcherIntervalSec, 5);
  assert.is(resolveConfig({}, { ENCSUP_MAX_CONCURRENT: '3', VIDEO_PROCESSING_MAX_CONCURRENT: '1' }).maxConcurrent, 3, 'the encsup name wins');
});

test('an invalid value is an error that names the variable', () => {
  const cases: [Record<string, string>, string][] = [
    [{ VIDEO_PROCESSING_MAX_CONCURRENT: 'lots' }, 'VIDEO_PROCESSING_MAX_CONCURRENT'],
    [{ ENCSUP_MAX_CONCURRENT: '-1' }, 'ENCSUP_MAX_CONCURRENT'],
    [{ ENCSUP_PROGRESS_THRESHOLD: '0' }, 'ENCSUP_PROGRESS_THRESHOLD'],
    [{ ENCSUP_PORT: '70000' }, 'ENCSUP_PORT'],
    [{ VIDEO_PROCESSING_TRACK_PROGRESS: 'maybe' }, 'VIDEO_PROCESSING_TRACK_PROGRESS'],
  ];
  for (const [env, name] of cases) {
    try {
      resolveConfig({}, env);
      assert.unreachable(`${name} should have been refused`);
    } catch (error) {
      assert.instance(error, ConfigError);
      assert.is((error as ConfigError).source, name);
      assert.match((error as Error).message, name);
    }
  }
  assert.throws(() => resolveConfig({ maxConcurrent: '1.5' }, {}), (error: Error) => error.message.includes('--max-concurrent'));
});

test('settings that contradict each other are refused at resolution, naming the one to change', () => {
  assert.throws(() => resolveConfig({}, { VIDEO_PROCESSING_FILE_WATCHER: 'true' }), /VIDEO_PROCESSING_FILE_WATCHER="true" is not valid: the watcher is on but has no folder/);
});

test('an empty variable counts as not set', () => {
  assert.is(resolveConfig({}, { ENCSUP_PORT: '' }).port, 8787);
});

test("every setting is a flag of `encsup daemon`, and the README's configuration table names exactly those flags", async () => {
  const help = await cli(['daemon', '--help']);
  const globalHelp = await cli(['--help']);
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const table = readme.slice(readme.indexOf('| setting | flag | environment | default |'), readme.indexOf('Booleans accept'));
  const documented = new Set([...table.matchAll(/`(--[a-z-]+)/g)].map((match) => match[1]!));
  for (const setting of settingFlags()) {
    assert.match(setting.name === 'dataDir' ? globalHelp.stdout : help.stdout, setting.flag, `${setting.flag} is a flag`);
    assert.ok(documented.has(setting.flag), `${setting.flag} is in the README`);
    for (const name of setting.env) assert.match(table, name);
  }
  assert.equal([...documented].sort(), settingFlags().map((setting) => setting.flag).sort(), 'the README documents no flag that does not exist');
});

test.run();
