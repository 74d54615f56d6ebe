// The service files as shipped: the systemd unit passes `systemd-analyze verify` and scores well
// under `systemd-analyze security`; the supervisord section names what the README's install makes.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const UNIT = 'scripts/encsup.service';

function hasSystemdAnalyze(): boolean {
  try {
    execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('the systemd unit verifies, and systemd-analyze security rates it OK (under 3.0)', () => {
  if (!hasSystemdAnalyze()) {
    console.log('  (skipped: no systemd-analyze on this machine; .ci/run installs systemd)');
    return;
  }
  execFileSync('systemd-analyze', ['verify', UNIT], { stdio: 'pipe' });
  const report = execFileSync('systemd-analyze', ['security', '--offline=true', UNIT], { encoding: 'utf8' });
  const score = Number(/Overall exposure level for encsup\.service: ([\d.]+)/.exec(report)?.[1]);
  assert.ok(score < 3, `exposure ${score}`);
  const unit = readFileSync(UNIT, 'utf8');
  for (const line of ['NoNewPrivileges=yes', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/encsup', 'PrivateTmp=yes', 'StateDirectory=encsup', 'UMask=0077', 'EnvironmentFile=-/etc/encsup/encsup.env']) {
    assert.ok(unit.split('\n').includes(line), line);
  }
});

test("the supervisord section runs as the user and in the folders the README's install makes", () => {
  const section = readFileSync('scripts/encsup.supervisor.conf', 'utf8');
  const readme = readFileSync('README.md', 'utf8');
  assert.match(section, /^user=encsup$/m);
  assert.match(section, /ENCSUP_DATA_DIR="\/var\/lib\/encsup"/);
  assert.match(readme, 'useradd --system --home-dir /var/lib/encsup --shell /usr/sbin/nologin encsup');
  assert.match(readme, 'install -d -o encsup -g encsup -m 0700 /var/lib/encsup');
});

test.run();
