// Reading the numbers encoders print: clock times, sizes, rates. N/A and garbage read as null.

/** `HH:MM:SS.cc`, `MM:SS`, or plain seconds; negative times (ffmpeg's start sentinel) are null. */
export function parseClock(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (trimmed.startsWith('-')) return null;
  const parts = trimmed.split(':');
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return null;
  return parts.reduce((total, part) => total * 60 + Number(part), 0);
}

/** A finite number, or null for N/A, empty text or anything that isn't one. */
export function parseNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  const match = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?/i.exec(text.trim());
  if (!match) return null;
  const value = Number(match[0]);
  return Number.isFinite(value) ? value : null;
}

/** ETA formats: `0:01:15`, `00h01m23s`, `1m 36s`, `242 s`, `41s`. */
export function parseEta(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim().replace(/^-/, '');
  const clock = parseClock(trimmed);
  if (clock !== null) return clock;
  const units = [...trimmed.matchAll(/(?<![\d.])(\d+(?:\.\d+)?)\s*([hms])/g)];
  if (units.length === 0) return null;
  const scale: Record<string, number> = { h: 3600, m: 60, s: 1 };
  return units.reduce((total, [, value, unit]) => total + Number(value) * scale[unit!]!, 0);
}
