/** Timestamp formats of the Bash tool's state files. */

/** `2025-12-01T08:56:05Z`: UTC, second precision, `Z` suffix (`date -u +%Y-%m-%dT%H:%M:%SZ`). */
export function isoSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** True when `s` has exactly the `isoSeconds` shape. */
export function isIsoSeconds(s: unknown): s is string {
  return typeof s === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(s);
}

interface LocalParts {
  year: string;
  month: string;
  day: string;
  hour: string;
  minute: string;
  second: string;
  zone: string;
}

/** Calendar fields of `d` in `timeZone` (the process's zone when undefined). */
function localParts(d: Date, timeZone: string | undefined): LocalParts {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    timeZoneName: 'short',
  });
  const parts: Record<string, string> = {};
  for (const part of format.formatToParts(d)) parts[part.type] = part.value;
  const get = (type: string): string => parts[type] ?? '';
  return {
    year: get('year').padStart(4, '0'),
    month: get('month'),
    day: get('day'),
    hour: get('hour'),
    minute: get('minute'),
    second: get('second'),
    zone: get('timeZoneName'),
  };
}

/** `2025-12-01 01:07:21 PST`: local time with a short zone name, as the Bash tool writes `deployment_end_time`. */
export function localTimestamp(d: Date, timeZone?: string): string {
  const p = localParts(d, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.zone}`;
}

/** `2025-12-01_12-30-44`: local time as used in archive directory names. */
export function archiveStamp(d: Date, timeZone?: string): string {
  const p = localParts(d, timeZone);
  return `${p.year}-${p.month}-${p.day}_${p.hour}-${p.minute}-${p.second}`;
}
