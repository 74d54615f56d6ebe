// The OpenAPI document against a real daemon: valid OpenAPI 3.1 by the official schema (checked by
// @seriousme/openapi-schema-validator), every operation it lists served, nothing served that it
// does not list, and the Node client (`encsup/client`, the one the CLI uses) calling every
// operation, each answer checked against the document's schema by Ajv (JSON Schema 2020-12).
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type OperationId, OPERATIONS } from '../src/api/operations.js';
import type { ApiClient } from '../src/api/client.js';
import { startTestDaemon, waitForStatus } from './helpers/daemon.js';
import { encodeCommand } from './helpers/media.js';
import { withDatabase } from './helpers/postgres.js';
import { withTempDir } from './helpers/temp.js';

type Document = { paths: Record<string, Record<string, { operationId: string; responses: Record<string, { content?: Record<string, { schema: object }> }>; requestBody?: { content: Record<string, { schema: object }> } }>> };

function checker(document: Document) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addSchema({ ...document, $id: 'openapi' });
  const operation = (id: string) => {
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(methods)) if (op.operationId === id) return { path, method, op };
    }
    throw new Error(`${id} is not in the document`);
  };
  const pointer = (path: string, method: string, rest: string) => `openapi#/paths/${path.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/${rest}`;
  return {
    /** Checks an answer against the operation's JSON answer schema; the errors, or [] when it fits. */
    answer(id: string, value: unknown): string[] {
      const { path, method, op } = operation(id);
      const [status, response] = Object.entries(op.responses).find(([code]) => code !== 'default')!;
      const [type] = Object.keys(response.content ?? {});
      if (type !== 'application/json') return typeof value === 'string' || typeof value === 'boolean' ? [] : [`${id}: expected text`];
      const validate = ajv.getSchema(pointer(path, method, `responses/${status}/content/application~1json/schema`))!;
      return validate(value) ? [] : (validate.errors ?? []).map((error) => `${id}${error.instancePath} ${error.message}`);
    },
    request(id: string, body: unknown): boolean {
      const { path, method } = operation(id);
      return ajv.getSchema(pointer(path, method, 'requestBody/content/application~1json/schema'))!(body) as boolean;
    },
  };
}

// A host of a farm (PostgreSQL store), so the hosts' operations answer too.
test('the served document is valid OpenAPI 3.1, lists what the server serves, and the client round-trips every operation', async () => {
  await withDatabase(async (database) => {
  await withTempDir(async (dir) => {
    const daemon = await startTestDaemon(dir.path, { maxConcurrent: 1, reportDirs: dir.path, watchStabilitySec: 0.2, store: database.url, hostName: 'openapi-host' });
    const { api, authed } = daemon;
    try {
      const document = (await api.openApi()) as unknown as Document & { openapi: string };
      const validator = new Validator();
      const result = await validator.validate(document as unknown as Parameters<Validator['validate']>[0]);
      assert.ok(result.valid, JSON.stringify(result.errors, null, 1));
      assert.is(validator.version, '3.1');

      // Every documented operation is served (no 404 "no such endpoint", no 405); what is not documented is not.
      for (const [path, methods] of Object.entries(document.paths)) {
        for (const method of Object.keys(methods)) {
          const concrete = path.replace('{id}', 'nosuchjob');
          const response = await authed(concrete, { method: method.toUpperCase(), ...(method === 'get' || method === 'head' ? {} : { body: '{}' }), signal: AbortSignal.timeout(2000) }).catch(() => null);
          if (path === '/api/events') continue;
          assert.ok(response, `${method} ${path} answered`);
          assert.not.ok(response!.status === 405 || (response!.status === 404 && method !== 'head' && /no such endpoint/.test(await response!.text())), `${method} ${path} is served`);
        }
      }
      assert.is((await authed('/api/undocumented')).status, 404);

      // The client, through every operation, each answer checked against the document.
      const check = checker(document);
      const output = join(dir.path, 'round-trip.mp4');
      const submission = { command: encodeCommand(output, { seconds: 1 }), output, name: 'round trip', priority: 'high', webhook: 'http://127.0.0.1:9/hook' };
      assert.ok(check.request('submitJob', submission), 'the document accepts what the server accepts');
      assert.not.ok(check.request('submitJob', { command: ['true'], priority: 'urgent' }), 'and refuses what it refuses');
      assert.is((await authed('/api/jobs', { method: 'POST', body: JSON.stringify({ command: ['true'], priority: 'urgent' }) })).status, 400);

      const submitted = await api.submit(submission);
      await waitForStatus(api, submitted.id, ['done']);
      const blocker = await api.submit({ command: ['sleep', '30'], name: 'blocker' });
      const waiting = await api.submit({ command: ['true'], name: 'waiting' });
      await waitForStatus(api, blocker.id, ['encoding']);
      const cancelled = await api.cancel(waiting.id);
      const calls: Record<OperationId, () => Promise<unknown>> = {
        submitJob: async () => submitted,
        listJobs: () => api.page({ limit: 2, order: 'newest' }),
        getJob: () => api.get(submitted.id.slice(0, 6)),
        setPriority: async () => api.setPriority((await api.submit({ command: ['true'], name: 'second waiting' })).id, 'low'),
        cancelJob: async () => cancelled,
        retryJob: () => api.retry(waiting.id),
        jobLog: () => api.log(submitted.id, { tail: 5 }),
        jobDeliveries: () => api.deliveries(submitted.id),
        jobTransitions: () => api.transitions(submitted.id),
        cleanJobs: () => api.clean({ olderThan: '30d' }),
        retryFailedJobs: () => api.retryFailed({ q: 'nothing matches this' }),
        forecast: () => api.forecast(),
        reportOutput: () => api.reportOutput(output),
        listOutputs: () => api.outputs(),
        pauseQueue: () => api.pause(),
        resumeQueue: () => api.resume(),
        getSettings: () => api.settings(),
        updateSettings: () => api.updateSettings({ maxConcurrent: 1 }),
        getConfig: async () => (await authed('/api/config')).json(),
        updateConfig: async () => (await authed('/api/config', { method: 'PATCH', body: JSON.stringify({ progressThreshold: 1 }) })).json(),
        machine: () => api.machine(),
        listHosts: () => api.hosts(),
        drainHost: () => api.drainHost('openapi-host'),
        resumeHost: () => api.resumeHost('openapi-host'),
        events: async () => {
          let opened = false;
          await api.events(null, () => true, AbortSignal.timeout(5000), async () => (opened = true));
          return opened;
        },
        metrics: () => api.metrics(),
        metricsHead: () => api.metricsAvailable(),
        health: () => api.health(),
        logout: () => api.logout(),
        openApi: async () => document,
      };
      assert.equal(Object.keys(calls).sort(), Object.keys(OPERATIONS).sort());
      for (const [id, call] of Object.entries(calls)) {
        const answer = await call();
        assert.equal(check.answer(id, answer), [], `${id} answers as documented`);
      }
      const page = (await api.page({ limit: 2, order: 'newest' })) as unknown;
      assert.equal(check.answer('listJobs', { ...(page as object), next: 42 }).length > 0, true, 'a wrong answer is caught');
    } finally {
      await daemon.close();
    }
  });
  });
});

test('encsup/client resolves to the built client, as an application imports it', async () => {
  // By the package's name, through its `exports`, as an application that installed encsup imports it.
  const specifier: string = 'encsup/client';
  const { ApiClient: Client } = (await import(specifier)) as { ApiClient: typeof ApiClient };
  await withTempDir(async (dir) => {
    const daemon = await startTestDaemon(dir.path);
    try {
      const api = new Client(daemon.url, daemon.token);
      const job = await api.submit({ command: ['true'], name: 'from the package' });
      assert.is((await waitForStatus(daemon.api, job.id, ['done'])).name, 'from the package');
      assert.is((await api.page({ q: 'from the package' })).matched, 1);
    } finally {
      await daemon.close();
    }
  });
});

test.run();
