// 9. The dashboard in Chromium with 10,000 jobs in the store, against the same page with 100: the
// time from opening the page to its first rows, and what live progress costs while two real
// encodes run (the page names each batch of row updates `encsup:update` in its performance
// timeline; long tasks are the browser's own count of tasks over 50 ms).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ApiClient } from '../../src/api/client.js';
import { launchBrowser } from '../../test/helpers/browser.js';
import { seedFinishedJobs } from '../../test/helpers/jobs.js';
import { encodeCommand } from '../../test/helpers/media.js';
import { benchDaemon } from '../daemon.js';
import { type Figure, elapsed, figure, percentile } from '../lib.js';

interface PageCost {
  firstRowsMs: number;
  updateP95Ms: number;
  updateMaxMs: number;
  longTasks: number;
}

// The page's own globals, for the function that runs inside the browser.
declare const PerformanceObserver: new (callback: (list: { getEntries(): unknown[] }) => void) => { observe(options: { type: string; buffered: boolean }): void };
declare const window: { longTasks: number };

async function measure(browser: Browser, dir: string, seeded: number, watchMs: number): Promise<PageCost> {
  mkdirSync(dir, { recursive: true });
  await seedFinishedJobs(dir, seeded);
  const daemon = await benchDaemon(dir, { maxConcurrent: 2 });
  const api = new ApiClient(daemon.url, daemon.token);
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  try {
    for (const name of ['one', 'two']) {
      const output = join(dir, `${name}.mp4`);
      await api.submit({ command: encodeCommand(output, { seconds: 60, realtime: true }), output, name });
    }
    // Logged in once (the cookie), so what is timed is the page itself.
    await page.goto(`${daemon.url}/?token=${daemon.token}`);
    await page.locator('#jobs tbody tr').first().waitFor();
    const start = performance.now();
    await page.reload();
    await page.locator('#jobs tbody tr').first().waitFor();
    const firstRowsMs = elapsed(start) * 1000;
    await page.evaluate(() => {
      window.longTasks = 0;
      new PerformanceObserver((list) => (window.longTasks += list.getEntries().length)).observe({ type: 'longtask', buffered: false });
    });
    await page.waitForTimeout(watchMs);
    const updates = await page.evaluate(() => (globalThis as unknown as { performance: { getEntriesByName(name: string): { duration: number }[] } }).performance.getEntriesByName('encsup:update').map((entry) => entry.duration));
    const longTasks = await page.evaluate(() => window.longTasks);
    return { firstRowsMs, updateP95Ms: percentile(updates, 95), updateMaxMs: Math.max(...updates), longTasks };
  } finally {
    await page.close();
    await daemon.close();
  }
}

export async function dashboard(quick: boolean, dir: string): Promise<Figure[]> {
  const watchMs = quick ? 4000 : 10_000;
  const browser = await launchBrowser();
  try {
    const small = await measure(browser, join(dir, 'dashboard-100'), 100, watchMs);
    const large = await measure(browser, join(dir, 'dashboard-10000'), 10_000, watchMs);
    const against = 'the same page with 100 jobs';
    return [
      figure('dashboard first rows, 10,000 jobs (Chromium)', large.firstRowsMs, 'ms', small.firstRowsMs, against),
      figure('dashboard live update, p95, 10,000 jobs', large.updateP95Ms, 'ms', small.updateP95Ms, against),
      figure('dashboard live update, slowest, 10,000 jobs', large.updateMaxMs, 'ms', small.updateMaxMs, against),
      figure(`dashboard long tasks (>50 ms) in ${watchMs / 1000} s of live updates, 10,000 jobs`, large.longTasks, 'tasks', small.longTasks, against),
    ];
  } finally {
    await browser.close();
  }
}
