// Records built to make regular expressions backtrack: long runs of the characters parsers look
// for, and real status lines with one of their runs (digits, spaces) blown up to a megabyte.

const MB = 1024 * 1024;

function repeatTo(piece: string, length: number): string {
  return piece.repeat(Math.ceil(length / piece.length)).slice(0, length);
}

/** Real lines whose runs of digits or spaces are each grown, one at a time, to `length`. */
function grownRuns(line: string, length: number): string[] {
  const grown: string[] = [];
  for (const match of line.matchAll(/\d+| +/g)) {
    const run = repeatTo(match[0][0]!, length);
    grown.push(line.slice(0, match.index) + run + line.slice(match.index! + match[0].length));
    if (grown.length >= 2) break;
  }
  return grown;
}

export function hostileRecords(realLines: string[], length = MB): { name: string; record: string }[] {
  const pieces = ['1', ' ', '#', '%', '/', ':', '.', 'a', '1 ', '1/', '1.', '|', '\t', 'frame=', '[', '1%', 'step ', '1:', '{', '- '];
  const records = pieces.map((piece) => ({ name: `${JSON.stringify(piece)} repeated`, record: repeatTo(piece, length) }));
  const traps = [
    ['Stream #0:0: Video: ', '1'],
    ['step', ' '],
    ['Progress', ' '],
    ['a', ' '],
    ['frame=', ' '],
    ['out_time=', ' '],
    ['1/', '1'],
    ['est. time: ', '1'],
  ] as const;
  for (const [prefix, run] of traps) {
    records.push({ name: `${JSON.stringify(prefix)} then ${JSON.stringify(run)}s then x`, record: `${prefix}${repeatTo(run, length)}x` });
    records.push({ name: `${JSON.stringify(prefix)} then ${JSON.stringify(run)}s then 1%`, record: `${prefix}${repeatTo(run, length)}1%` });
  }
  for (const line of realLines) {
    for (const record of grownRuns(line, length)) records.push({ name: `grown: ${line.slice(0, 40)}`, record });
  }
  return records;
}
