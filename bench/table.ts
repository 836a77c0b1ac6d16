/**
 * Plain-text columns. `align` has one letter per column, l or r; by default the first column
 * (names) is left-aligned and the rest (figures) right-aligned.
 */
export function table(header: string[], rows: string[][], align = `l${'r'.repeat(header.length - 1)}`): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (align[column] === 'l' ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const kilobytes = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;

export const milliseconds = (ms: number) => `${ms.toFixed(0)} ms`;

export const seconds = (value: number | null) => (value === null ? 'n/a' : `${value} s`);

/** 5400 → "1 h 30 min": durations a reader compares at a glance. */
export function duration(totalSeconds: number): string {
  const days = Math.floor(totalSeconds / 86_400);
  if (days > 0) return `${days} d ${String(Math.floor((totalSeconds % 86_400) / 3600)).padStart(2, '0')} h`;
  const hours = Math.floor(totalSeconds / 3600);
  const minutes = Math.floor((totalSeconds % 3600) / 60);
  const rest = Math.round(totalSeconds % 60);
  if (hours > 0) return `${hours} h ${String(minutes).padStart(2, '0')} min`;
  if (minutes > 0) return `${minutes} min ${String(rest).padStart(2, '0')} s`;
  return `${rest} s`;
}
