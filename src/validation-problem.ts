// The first thing wrong with a request body, as a field name and a sentence.
import type { z } from 'zod';

export interface ValidationProblem {
  field: string | undefined;
  message: string;
}

export function firstProblem(error: z.ZodError, unknownFieldNote = 'unknown field'): ValidationProblem {
  const issue = error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const field = issue.keys[0];
    return { field, message: `${field}: ${unknownFieldNote}` };
  }
  const field = issue.path[0]?.toString();
  return { field, message: `${field ?? 'body'}: ${issue.message}` };
}
