// The dashboard in Chromium with a farm's history: 10,000 finished jobs in the store, real encodes
// running. One page of rows, running jobs first, rows updated in place, search, paging, filters;
// and the job page: the log's tail followed live, the running attempt, the viewer's local time, a
// labelled statechart, and a phone's width. How fast it is lives in bench/ (the `dashboard` figure).
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchBrowser } from './helpers/browser.js';
import { startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { seedFinishedJobs } from './helpers/jobs.js';
import { encodeCommand } from './helpers/media.js';
import { withTempDir } from './helpers/temp.js';
import { until } from './helpers/wait.js';

// The page's own globals, for the functions that run inside the browser.
declare const document: {
  querySelector(selector: string): (Element & { __kept?: boolean }) | null;
  querySelectorAll(selector: string): ArrayLike<Element>;
  documentElement: { scrollWidth: number; clientWidth: number };
};
interface Element {
  getAttribute(name: string): string | null;
  getBoundingClientRect(): { left: number; right: number; top: number; bottom: number };
  textContent: string | null;
}

const SEEDED = 10_000;
const PAGE_SIZE = 50;
let browser: Browser;

test.before(async () => {
  browser = await launchBrowser();
});
test.after(async () => {
  await browser.close();
});

const rowIds = (page: Page) => page.locator('#jobs tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-job')));

test('10,000 jobs: counts, running first, one page of rows updated in place, search, paging and filters', async () => {
  await withTempDir(async (dir) => {
    await seedFinishedJobs(dir.path, SEEDED);
    const { api, url, token, close } = await startTestDaemon(dir.path, { maxConcurrent: 2 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: 'en-US' });
    try {
      const running = [];
      for (const name of ['running one', 'running two']) {
        const output = join(dir.path, `${name.replace(' ', '-')}.mp4`);
        running.push(await api.submit({ command: encodeCommand(output, { seconds: 30, realtime: true }), output, totalFrames: 720, name }));
      }
      const waiting = [await api.submit({ command: ['true'], name: 'waiting low', priority: -1 }), await api.submit({ command: ['true'], name: 'waiting high', priority: 5 })];
      for (const job of running) await waitForStatus(api, job.id, ['encoding']);
      await page.goto(`${url}/?token=${token}`);
      await page.locator('#jobs tbody tr').first().waitFor();

      const ids = await rowIds(page);
      assert.is(ids.length, PAGE_SIZE, 'one page of rows, not ten thousand');
      assert.equal(ids.slice(0, 2).sort(), running.map((job) => job.id).sort(), 'running jobs first');
      assert.equal(ids.slice(2, 4), [waiting[1]!.id, waiting[0]!.id], 'then waiting, in the order they will start');
      assert.is(ids[4], `seed${String(SEEDED - 1).padStart(5, '0')}`, 'then finished, newest first');
      assert.is(await page.locator('[data-count="all"]').textContent(), (SEEDED + 4).toLocaleString('en-US'));
      const counts = (await api.page({ limit: 1 })).counts;
      assert.is(await page.locator('[data-count="failed"]').textContent(), counts.failed.toLocaleString('en-US'));

      // Live progress changes the row in place: the same element, its bar further on.
      const first = running[0]!.id;
      const bar = `tr[data-job="${first}"] .bar`;
      await page.evaluate((id) => (document.querySelector(`tr[data-job="${id}"]`)!.__kept = true), first);
      const before = Number(await page.locator(bar).getAttribute('aria-valuenow'));
      await page.waitForFunction(([selector, from]) => Number(document.querySelector(selector)?.getAttribute('aria-valuenow')) > from + 2, [bar, before] as const, { timeout: 20_000 });
      assert.ok(await page.evaluate((id) => document.querySelector(`tr[data-job="${id}"]`)!.__kept === true, first), 'the row was updated, not made again');
      assert.is(await page.locator('#jobs tbody tr').count(), PAGE_SIZE);

      // Search: a name, then an id prefix.
      await page.locator('#search').fill('archive clip 01234');
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 1);
      assert.equal(await rowIds(page), ['seed01234']);
      assert.match((await page.locator('#range').textContent())!, /of 1$/);
      await page.locator('#search').fill('seed0999');
      await page.waitForFunction(() => document.querySelectorAll('#jobs tbody tr').length === 10);
      assert.ok((await rowIds(page)).every((id) => id!.startsWith('seed0999')));

      // Paging: the second page is the daemon's second page, and back again.
      await page.locator('#search').fill('');
      await page.waitForFunction((size) => document.querySelectorAll('#jobs tbody tr').length === size, PAGE_SIZE);
      const firstPage = await rowIds(page);
      await page.locator('#next').click();
      await page.waitForFunction((id) => document.querySelector('#jobs tbody tr')?.getAttribute('data-job') !== id, firstPage[0]);
      const second = await api.page({ limit: PAGE_SIZE, order: 'view', cursor: (await api.page({ limit: PAGE_SIZE, order: 'view' })).next! });
      assert.equal(await rowIds(page), second.jobs.map((job) => job.id));
      assert.match((await page.locator('#range').textContent())!, /^51–100 of 10,004$/);
      await page.locator('#previous').click();
      await page.waitForFunction((id) => document.querySelector('#jobs tbody tr')?.getAttribute('data-job') === id, firstPage[0]);

      // A status filter: only failed jobs, as many as the counts say (a page's worth).
      await page.locator('[data-filter="failed"]').click();
      await page.waitForFunction(() => [...(document.querySelectorAll('#jobs tbody td.status') as unknown as Element[])].every((cell) => cell.getAttribute('data-status') === 'failed'));
      assert.match((await page.locator('#range').textContent())!, new RegExp(`of ${counts.failed.toLocaleString('en-US')}$`));
    } finally {
      await page.close();
      await close();
    }
  });
});

test('the job page follows the log live, shows the running attempt, local times and a labelled statechart, and fits a phone', async () => {
  await withTempDir(async (dir) => {
    const { api, url, token, close } = await startTestDaemon(dir.path);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, locale: 'de-DE', timezoneId: 'Asia/Tokyo' });
    try {
      const output = join(dir.path, 'followed.mp4');
      const job = await api.submit({ command: encodeCommand(output, { seconds: 30, realtime: true }), output, name: 'a job name long enough to need wrapping on a phone screen' });
      await waitForStatus(api, job.id, ['encoding']);
      const pid = await until(async () => (await api.get(job.id)).pid, 'the encoder to start');
      await page.goto(`${url}/?token=${token}`);
      await page.locator(`tr[data-job="${job.id}"]`).waitFor();
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'the list needs no sideways scrolling');

      await page.goto(`${url}/#/jobs/${job.id}`);
      const lastFrame = () => page.locator('#log').evaluate((pre) => Math.max(0, ...[...(pre.textContent ?? '').matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]))));
      await page.waitForFunction(() => /frame=\s*\d+/.test(document.querySelector('#log')?.textContent ?? ''), undefined, { timeout: 15_000 });
      const seen = await lastFrame();
      await page.waitForFunction((from) => Math.max(0, ...[...(document.querySelector('#log')?.textContent ?? '').matchAll(/frame=\s*(\d+)/g)].map((m) => Number(m[1]))) > from + 24, seen, { timeout: 20_000 });
      assert.ok((await lastFrame()) > seen, 'the log tail grew while the page was open');

      const attempt = page.locator('#current-attempt');
      assert.ok(await attempt.isVisible(), 'the running attempt is shown');
      assert.match((await attempt.textContent())!, new RegExp(`pid ${pid}`));

      const submitted = (await page.locator('dd[data-fact="submitted"]').textContent())!;
      const local = new Date(job.createdAt).toLocaleString('de-DE', { timeZone: 'Asia/Tokyo', dateStyle: 'medium', timeStyle: 'medium' });
      assert.ok(submitted.startsWith(local), `${submitted} is the viewer's local time ${local}`);
      assert.match(submitted, /\(vor .+\)|\(jetzt\)/, 'with its age, in the viewer language');

      await page.locator('#statechart .edge-label').first().waitFor();
      const machine = (await (await fetch(`${url}/api/machine`, { headers: { authorization: `Bearer ${token}` } })).json()) as { transitions: unknown[] };
      assert.is(await page.locator('#statechart .edge-label').count(), machine.transitions.length, 'every edge labelled');
      const boxes = await page.locator('#statechart .edge-label-box, #statechart .state rect').evaluateAll((nodes) => nodes.map((node) => node.getBoundingClientRect()).map(({ left, right, top, bottom }) => ({ left, right, top, bottom })));
      for (const [i, a] of boxes.entries()) {
        for (const b of boxes.slice(i + 1)) assert.ok(a.right <= b.left + 0.5 || b.right <= a.left + 0.5 || a.bottom <= b.top + 0.5 || b.bottom <= a.top + 0.5, 'no label or state covers another');
      }
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth), 'the job page needs no sideways scrolling');

      const download = await page.locator('#download-log').getAttribute('href');
      assert.is(download, `/api/jobs/${job.id}/log?download=1`);
      await api.cancel(job.id);
      await page.locator('dd[data-fact="status"]').filter({ hasText: 'cancelled' }).waitFor();
      assert.not.ok(await attempt.isVisible(), 'an ended attempt is in the table, not shown as running');
    } finally {
      await page.close();
      await close();
    }
  });
});

test.run();
