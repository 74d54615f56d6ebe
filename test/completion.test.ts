// Shell completion made from the command tree: real bash completes commands and each command's
// own flags.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cli } from './helpers/cli.js';
import { tempDir } from './helpers/temp.js';

function complete(script: string, words: string[]): string[] {
  const dir = tempDir();
  try {
    writeFileSync(join(dir.path, 'completion.bash'), script);
    const line = `source ${join(dir.path, 'completion.bash')}; COMP_WORDS=(${words.map((word) => `'${word}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _encsup; printf '%s\\n' "\${COMPREPLY[@]}"`;
    return execFileSync('bash', ['-c', line], { encoding: 'utf8', cwd: dir.path }).split('\n').filter(Boolean);
  } finally {
    dir.remove();
  }
}

test('bash completes the commands, and each command its own flags', async () => {
  const generated = await cli(['completion', 'bash']);
  assert.is(generated.code, 0);
  assert.equal(complete(generated.stdout, ['encsup', 'sub']), ['submit']);
  assert.equal(complete(generated.stdout, ['encsup', 'list', '--li']), ['--limit']);
  assert.ok(complete(generated.stdout, ['encsup', 'logs', '-']).includes('--follow'));
  assert.equal(complete(generated.stdout, ['encsup', 'daemon', '--max-con']), ['--max-concurrent'], 'the daemon\'s flags, which load only when asked for');
  assert.ok(complete(generated.stdout, ['encsup', '--data-dir', 'x', 'retry-f']).includes('retry-failed'), 'after a global flag and its value');
  assert.match((await cli(['completion', 'zsh'])).stdout, /^autoload -U \+X bashcompinit && bashcompinit\n/);
  assert.is((await cli(['completion', 'fish'])).code, 1);
});

test.run();
