// A store's URL as it may be shown (logs, messages): the password replaced by ***. A file of its
// own, so naming the store in the daemon's start line does not load the PostgreSQL client.

/** The URL without its password, for messages and logs. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'postgres://…';
  }
}
