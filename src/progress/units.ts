// Reading the numbers encoders print: clock times, sizes, rates. N/A and garbage read as null.

/** `HH:MM:SS.cc`, `MM:SS`, or plain seconds; negative times (ffmpeg's start sentinel) are null. */
export function parseClock(text: string | undefined): number | null {
  if (text === undefined) return null;
  const trimmed = text.trim();
  if (!CLOCK.test(trimmed)) return null;
  let total = 0;
  let from = 0;
  // Status lines carry a clock each, so this is read without splitting into an array.
  for (let colon = trimmed.indexOf(':'); colon >= 0; colon = trimmed.indexOf(':', from)) {
    total = total * 60 + Number(trimmed.slice(from, colon));
    from = colon + 1;
  }
  return total * 60 + Number(trimmed.slice(from));
}

// Up to three parts, each digits with an optional fraction; a leading minus (a sentinel) is none.
const CLOCK = /^\d+(?:\.\d+)?(?::\d+(?:\.\d+)?){0,2}$/;

/** A finite number, or null for N/A, empty text or anything that isn't one. */
export function parseNumber(text: string | undefined): number | null {
  if (text === undefined) return null;
  // parseFloat reads the longest leading decimal number (sign, fraction, exponent) and ignores
  // the rest (`kbits/s`, `x`); `Infinity`, `N/A` and overflow are not numbers here.
  const value = Number.parseFloat(text);
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
