// One webhook POST: the status the receiver answered, within 10 s; the body of the answer is not
// kept (a receiver's page is no business of ours).
export async function postJson(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  await response.body?.cancel();
  return response.status;
}
