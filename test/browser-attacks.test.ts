// What a web page can do to a daemon on this machine, tried in real Chromium: pages of another
// loopback origin while the dashboard is logged in (cookie), and a DNS-rebinding name that points
// at 127.0.0.1. None may create a job, run a command, read data or end the daemon.
import { existsSync, readFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchBrowser } from './helpers/browser.js';
import { withTestDaemon } from './helpers/daemon.js';
import { until } from './helpers/wait.js';

// The page's own globals, for the functions that run inside the browser.
declare const document: { title: string };

let browser: Browser;
test.before(async () => {
  browser = await launchBrowser();
});
test.after(async () => {
  await browser.close();
});

/** A server on another loopback port that serves the given pages. */
async function attackerSite(pages: Record<string, string>): Promise<{ origin: string; hits: string[]; close: () => Promise<void> }> {
  const hits: string[] = [];
  const server: Server = createServer((request, response) => {
    hits.push(request.url ?? '');
    const page = pages[request.url ?? ''];
    response.writeHead(page ? 200 : 404, { 'content-type': 'text/html' });
    response.end(page ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { origin: `http://127.0.0.1:${port}`, hits, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function attackPage(target: string, marker: string): string {
  const job = JSON.stringify({ command: ['touch', marker] });
  const quiet = (call: string) => `${call}.catch(() => {});`;
  return `<!doctype html><body>
<form id="form" method="POST" action="${target}/api/jobs" enctype="text/plain" target="sink"><input name='${job.slice(0, -1)}, "x": "' value='"}'></form>
<iframe name="sink"></iframe>
<img src="${target}/api/jobs/%E0"><img src="${target}/api/jobs/x/%E0%A4%A">
<script>
  ${quiet(`fetch('${target}/api/jobs', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(job)} })`)}
  ${quiet(`fetch('${target}/api/jobs', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(job)} })`)}
  ${quiet(`fetch('${target}/api/jobs', { method: 'POST', mode: 'no-cors', credentials: 'include', body: ${JSON.stringify(job)} })`)}
  ${quiet(`fetch('${target}/api/config', { method: 'PATCH', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"maxConcurrent": 0}' })`)}
  ${quiet(`fetch('${target}/api/jobs', { credentials: 'include' }).then((r) => r.text()).then((t) => { document.title = 'read:' + t; })`)}
  document.getElementById('form').submit();
  setTimeout(() => { document.title = document.title || 'tried'; }, 1500);
</script></body>`;
}

test('with the dashboard logged in, another loopback origin can neither run a job, change a setting, read jobs nor crash the daemon', async () => {
  await withTestDaemon({}, async ({ url, token, api, dir }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const marker = join(dir.path, 'pwned');
    const site = await attackerSite({ '/attack': attackPage(url, marker), '/navigate': `<script>location = ${JSON.stringify(`${url}/api/jobs/%E0`)}</script>` });
    try {
      const secretJob = await api.submit({ command: ['true'], name: 'before the attack', env: { API_KEY: 'sekrit-value-123' } });
      await page.goto(`${url}/?token=${token}`);
      assert.is(page.url(), `${url}/`, 'the token left the address bar');
      const cookie = (await context.cookies()).find((each) => each.name.startsWith('encsup-'));
      assert.ok(cookie?.httpOnly, 'the login cookie is HttpOnly');
      assert.is(cookie?.sameSite, 'Strict');
      await page.locator(`tr[data-job="${secretJob.id}"]`).waitFor();

      const attack = await context.newPage();
      await attack.goto(`${site.origin}/attack`);
      await attack.waitForFunction(() => document.title !== '', undefined, { timeout: 10_000 });
      assert.not.match(await attack.title(), 'before the attack', 'the page could not read the job list');
      const navigated = await context.newPage();
      await navigated.goto(`${site.origin}/navigate`);
      await navigated.waitForURL(/api\/jobs/);
      assert.match(await navigated.content(), 'is refused', 'sent there from another site, a malformed address gets a 403, not a crash');

      assert.ok((await fetch(new URL('/healthz', url))).ok, 'the daemon is up');
      assert.equal((await api.list()).map((job) => job.id), [secretJob.id], 'no job was created');
      assert.is((await api.settings()).maxConcurrent, 2, 'no setting changed');
      assert.is(existsSync(marker), false, 'no command ran');
      assert.not.match(readFileSync(join(dir.path, 'jobs.db'), 'utf8'), 'pwned');
    } finally {
      await context.close();
      await site.close();
    }
  });
});

test('a DNS-rebinding name that resolves to 127.0.0.1 reads nothing, even with the token', async () => {
  await withTestDaemon({}, async ({ daemon, token, api }) => {
    await api.submit({ command: ['true'], name: 'private job' });
    const rebinding = await launchBrowser(['--host-resolver-rules=MAP rebind.example 127.0.0.1']);
    try {
      const page = await rebinding.newPage();
      for (const path of ['/api/jobs', `/?token=${token}`, '/metrics']) {
        const response = await page.goto(`http://rebind.example:${daemon.port}${path}`);
        assert.is(response?.status(), 403, path);
        assert.not.match(await page.content(), 'private job');
      }
    } finally {
      await rebinding.close();
    }
  });
});

test('the dashboard works after the cookie login, and logging out ends it', async () => {
  await withTestDaemon({}, async ({ url, token, api }) => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const login = await page.goto(`${url}/`);
      assert.is(login?.status(), 401, 'without the cookie the login page shows');
      await page.locator('input[name="token"]').fill(token);
      await page.locator('button[type="submit"]').click();
      await page.waitForURL(`${url}/`);
      const job = await api.submit({ command: ['sleep', '30'], name: 'cancel me' });
      await page.locator(`tr[data-job="${job.id}"] td[data-status="encoding"]`).waitFor({ timeout: 10_000 });
      await page.locator(`tr[data-job="${job.id}"] button[data-action="cancel"]`).click();
      await until(async () => (await api.get(job.id)).status === 'cancelled', 'the dashboard cancel to land');
      for (const header of ['x-frame-options', 'content-security-policy', 'x-content-type-options', 'referrer-policy']) {
        assert.ok((await page.request.get(`${url}/`)).headers()[header], header);
      }
      await page.locator('#logout').click();
      await page.waitForURL(`${url}/`);
      await page.locator('input[name="token"]').waitFor();
      assert.is((await page.request.get(`${url}/api/jobs`)).status(), 401, 'the API is closed again');
    } finally {
      await context.close();
    }
  });
});

test.run();
