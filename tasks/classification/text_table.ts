/** A plain-text table: a header, a rule, and rows, columns padded to their widest cell (by code point). */
export function textTable(header: string[], rows: string[][]): string {
  const width = header.map((h, c) => Math.max([...h].length, ...rows.map((r) => [...r[c]].length)));
  const line = (cells: string[]) => cells.map((cell, c) => cell + ' '.repeat(width[c] - [...cell].length)).join('  ').trimEnd();
  return [line(header), line(width.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}
