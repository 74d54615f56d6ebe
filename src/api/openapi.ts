// The OpenAPI 3.1 document of the API (GET /api/openapi.json), made from the operation table and
// the zod schemas the server checks requests with: JSON Schema 2020-12, which OpenAPI 3.1 uses as
// is, written by zod itself. Requests are described as zod reads them (input), answers as the
// daemon writes them (output). Pure.
import { z } from 'zod';
import { encsupVersion } from '../encsup-package.js';
import { type Answer, OPERATIONS, type Operation, pathParameters } from './operations.js';
import { errorSchema } from './response-schemas.js';

type JsonSchema = Record<string, unknown>;

const AUTH_HEADER = 'bearer';
const AUTH_COOKIE = 'dashboardCookie';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  // Refinements (an ISO time, a cursor this daemon made) and transforms have no JSON Schema: the
  // document says the type, the server says the rest in its 400.
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

/** Names for the schemas that several operations share, so the document says each once. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};
  readonly #names = new Map<z.ZodType, string>();

  ref(schema: z.ZodType, io: 'input' | 'output', name: string): JsonSchema {
    const key = this.#names.get(schema);
    if (key === undefined) {
      this.#names.set(schema, name);
      this.schemas[name] = jsonSchema(schema, io);
      return { $ref: `#/components/schemas/${name}` };
    }
    return { $ref: `#/components/schemas/${key}` };
  }
}

const capitalised = (id: string) => id[0]!.toUpperCase() + id.slice(1);

function answerContent(answer: Answer, components: Components, id: string): JsonSchema {
  if ('json' in answer) return { 'application/json': { schema: components.ref(answer.json, 'output', `${capitalised(id)}Answer`) } };
  if (answer.text === 'prometheus') return { 'text/plain; version=0.0.4': { schema: { type: 'string' } } };
  return { [answer.text]: { schema: { type: 'string' } } };
}

function describeOperation(id: string, operation: Operation, components: Components): JsonSchema {
  const parameters: JsonSchema[] = pathParameters(operation.path).map((name) => ({
    name,
    in: 'path',
    required: true,
    description: 'a job id, or a prefix of 4 or more characters that only one job has',
    schema: { type: 'string' },
  }));
  if (operation.query) {
    const query = jsonSchema(operation.query, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
    for (const [name, schema] of Object.entries(query.properties ?? {})) {
      const { description, ...rest } = schema;
      parameters.push({ name, in: 'query', required: (query.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest });
    }
  }
  if (id === 'submitJob') {
    parameters.push({ name: 'Idempotency-Key', in: 'header', required: false, description: 'one job per key, however often it is sent', schema: { type: 'string', minLength: 1, maxLength: 200 } });
  }
  const access = operation.access ?? 'token';
  return {
    operationId: id,
    summary: operation.summary,
    ...(operation.description ? { description: operation.description } : {}),
    ...(operation.deprecated ? { deprecated: true } : {}),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(operation.body ? { requestBody: { required: true, content: { 'application/json': { schema: components.ref(operation.body, 'input', `${capitalised(id)}Request`) } } } } : {}),
    // Open operations need no token: the default is the document's (a token, in a header or the dashboard's cookie).
    ...(access === 'token' ? {} : { security: [] }),
    responses: {
      [String(operation.answer.status)]: { description: operation.answer.description, content: answerContent(operation.answer, components, id) },
      default: { description: 'what went wrong: 400 a bad request (the field named), 401 no token, 404 no such job, 409 a conflict, 503 not accepting now', content: { 'application/json': { schema: components.ref(errorSchema, 'output', 'Error') } } },
    },
  };
}

export function openApiDocument(): JsonSchema {
  const components = new Components();
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [id, operation] of Object.entries(OPERATIONS) as [string, Operation][]) {
    paths[operation.path] ??= {};
    paths[operation.path]![operation.method.toLowerCase()] = describeOperation(id, operation, components);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'encsup',
      version: encsupVersion(),
      description: 'The HTTP API of the encsup daemon: submit, follow and control encoding and render jobs. The CLI (`encsup`), the dashboard and the Node client (`encsup/client`) use it.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://127.0.0.1:8787', description: 'the default address' }],
    security: [{ [AUTH_HEADER]: [] }, { [AUTH_COOKIE]: [] }],
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: {
        [AUTH_HEADER]: { type: 'http', scheme: 'bearer', description: 'the token in <data-dir>/token (or ENCSUP_TOKEN)' },
        [AUTH_COOKIE]: { type: 'apiKey', in: 'cookie', name: 'encsup-<port>', description: 'set by opening the dashboard with ?token=…' },
      },
    },
  };
}
