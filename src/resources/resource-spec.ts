// Resources as people write them: `cpu=2,gpu=2,nvenc=3` on the command line and in the
// environment, `{"gpu": 1}` in the API. One schema for both, so a name or an amount is checked
// the same way wherever it comes from.
import { z } from 'zod';
import { RESOURCE_NAME } from '../../machines/resources.js';

const MAX_NAMES = 16;
const MAX_AMOUNT = 1024;

/** An object of resource amounts, each a whole number from 0 to 1024. */
export function resourcesSchema(what: string) {
  return z
    .record(
      z.string(),
      z.number({ error: 'expected a whole number' }).int('expected a whole number').min(0, 'expected 0 or more').max(MAX_AMOUNT, `expected at most ${MAX_AMOUNT}`),
      { error: `expected an object of resource amounts, e.g. {"gpu": 1}` },
    )
    .superRefine((resources, context) => {
      const names = Object.keys(resources);
      if (names.length > MAX_NAMES) context.addIssue({ code: 'custom', message: `expected at most ${MAX_NAMES} resources` });
      const bad = names.find((name) => !RESOURCE_NAME.test(name));
      if (bad !== undefined) context.addIssue({ code: 'custom', message: `${JSON.stringify(bad.slice(0, 40))} is not a resource name (a lower-case letter, then letters, digits, - or _; at most 32)` });
    });
}

/** `cpu=2,gpu=1` (spaces allowed) as an object; throws an Error that says what is wrong. */
export function parseResourceList(text: string, what: string): Record<string, number> {
  const resources: Record<string, number> = {};
  for (const part of text.split(',').map((each) => each.trim()).filter((each) => each !== '')) {
    const match = /^([^=\s]+)\s*=\s*(\S+)$/.exec(part);
    if (!match) throw new Error(`${what}: "${part}" is not NAME=AMOUNT (e.g. gpu=1)`);
    resources[match[1]!] = Number(match[2]);
  }
  const parsed = resourcesSchema(what).safeParse(resources);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${what}: ${issue.path.length > 0 ? `${String(issue.path[0])}: ` : ''}${issue.message}`);
  }
  return parsed.data;
}
