// The dashboard in a real browser against a real daemon and real encodes.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { FIXTURES_DIR } from './helpers/corpus.js';
import { launchBrowser } from './helpers/browser.js';
import { startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { encodeCommand } from './helpers/media.js';
import { tempDir } from './helpers/temp.js';

// The page's own globals, for the functions that run inside the browser.
declare const document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null };

const ARTIFACTS = join(FIXTURES_DIR, '..', 'artifacts');
mkdirSync(ARTIFACTS, { recursive: true });
let browser: Browser;

test.before(async () => {
  browser = await launchBrowser();
});
test.after(async () => {
  await browser.close();
});

test('the dashboard shows a real encode progressing live, and its cancel button cancels it', async () => {
  const dir = tempDir();
  const { api, url, token, close } = await startTestDaemon(dir.path);
  const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(`${url}/?token=${token}`);
  try {
    const output = join(dir.path, 'live.mp4');
    const job = await api.submit({ command: encodeCommand(output, { seconds: 20, realtime: true }), output, totalFrames: 480, name: 'live encode' });
    await page.goto(url);
    const bar = page.locator(`.bar[data-job="${job.id}"]`);
    await bar.waitFor();
    const first = await page.waitForFunction((id) => {
      const value = Number(document.querySelector(`.bar[data-job="${id}"]`)?.getAttribute('aria-valuenow'));
      return value > 0 ? value : false;
    }, job.id, { timeout: 15_000 });
    const start = Number(await first.jsonValue());
    const later = await page.waitForFunction(([id, before]) => {
      const value = Number(document.querySelector(`.bar[data-job="${id}"]`)?.getAttribute('aria-valuenow'));
      return value >= before + 5 ? value : false;
    }, [job.id, start] as const, { timeout: 15_000 });
    assert.ok(Number(await later.jsonValue()) > start, 'the bar advanced without a reload');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png') });
    await page.locator(`tr[data-job="${job.id}"] button[data-action="cancel"]`).click();
    await page.locator(`tr[data-job="${job.id}"] td[data-status="cancelled"]`).waitFor({ timeout: 15_000 });
    assert.is((await api.get(job.id)).status, 'cancelled');
  } finally {
    await page.close();
    await close();
    dir.remove();
  }
});

test('encoder output with <script> and <img onerror> is shown as text in the log view', async () => {
  const dir = tempDir();
  const { api, url, token, close } = await startTestDaemon(dir.path);
  const page = await browser.newPage();
  await page.goto(`${url}/?token=${token}`);
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  try {
    const hostile = ['<script>alert(1)</script>', '<img src=x onerror=alert(2)>'];
    const job = await api.submit({ command: ['printf', `${hostile.join('\\n')}\\n`], name: '<b>bold?</b>' });
    await waitForStatus(api, job.id, ['done']);
    await page.goto(`${url}/#/jobs/${job.id}`);
    await page.locator('#log').filter({ hasText: 'onerror' }).waitFor();
    const log = await page.locator('#log').textContent();
    for (const line of hostile) assert.ok(log!.includes(line), `shown literally: ${line}`);
    assert.is(await page.locator('#log img, #log script').count(), 0, 'no element was made from the output');
    assert.is(await page.locator('#job-title').textContent(), `<b>bold?</b> (${job.id})`);
    assert.equal(dialogs, [], 'nothing ran');
  } finally {
    await page.close();
    await close();
    dir.remove();
  }
});

test('the statechart view highlights the state that the API reports for the job', async () => {
  const dir = tempDir();
  const { api, url, token, close } = await startTestDaemon(dir.path, { maxConcurrent: 1 });
  const page = await browser.newPage();
  await page.goto(`${url}/?token=${token}`);
  try {
    const output = join(dir.path, 'busy.mp4');
    const busy = await api.submit({ command: encodeCommand(output, { seconds: 30, realtime: true }), output });
    const waiting = await api.submit({ command: ['true'] });
    await waitForStatus(api, busy.id, ['encoding']);
    for (const id of [busy.id, waiting.id]) {
      await page.goto(`${url}/#/jobs/${id}`);
      const status = (await api.get(id)).status;
      await page.locator(`#statechart .state.current[data-state="${status}"]`).waitFor();
      assert.is(await page.locator('#statechart .state.current').count(), 1);
    }
    await api.cancel(busy.id);
    await page.goto(`${url}/#/jobs/${busy.id}`);
    await page.locator('#statechart .state.current[data-state="cancelled"]').waitFor();
    const transitions = await page.locator('#transitions li').allTextContents();
    assert.ok(transitions.some((line) => line.includes('encoding → cancelled')), transitions.join(' | '));
    assert.is(await page.locator('#statechart .edge.taken[data-edge="encoding>cancelled"]').count(), 1);
  } finally {
    await page.close();
    await close();
    dir.remove();
  }
});

test.run();
