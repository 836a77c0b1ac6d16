// How a person reads a length of time: the command line's lines and tables, and the causes of
// failures that the functions write (an alert's reader should not divide 691201 by 86,400).

/**
 * `42 s`, `10 min`, `7 min 36 s`, `5 min 01 s`, `1 h 02 min 05 s`, `1 h 40 min`, `7 d 00 h 12 min 30 s`.
 * One rule at every size: the first unit as it is, each later one in two digits as a clock
 * writes it (so `1 h 05 min` never reads as `1 h 50 min` at a glance, and durations of the same
 * units in a column have the same width), and the zero units at the end left out (`10 d`, not
 * `10 d 00 h 00 min 00 s`), as `10 min` always was.
 */
export function duration(seconds: number): string {
  const total = Math.round(seconds);
  const units: [number, string][] = [
    [Math.floor(total / 86_400), 'd'],
    [Math.floor((total % 86_400) / 3600), 'h'],
    [Math.floor((total % 3600) / 60), 'min'],
    [total % 60, 's'],
  ];
  const first = units.findIndex(([amount]) => amount > 0);
  if (first < 0) return '0 s';
  const last = units.findLastIndex(([amount]) => amount > 0);
  return units
    .slice(first, last + 1)
    .map(([amount, unit], index) => `${index === 0 ? amount : String(amount).padStart(2, '0')} ${unit}`)
    .join(' ');
}

/** `once`, `twice`, `3 times`. */
export const timesOf = (count: number): string => (count === 1 ? 'once' : count === 2 ? 'twice' : `${count} times`);
