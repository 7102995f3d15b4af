/**
 * One formatter per time zone (building an `Intl.DateTimeFormat` costs far more than using it, and
 * the digest job and quiet hours ask for the same few zones every minute). A wall clock's parts of
 * an instant, in `timeZone`, as numbers.
 */
const formatters = new Map<string, Intl.DateTimeFormat>();
function wallClock(at: Date, timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  return { year: get("year"), month: get("month"), day: get("day"), hour: Number(get("hour")), minute: Number(get("minute")), second: Number(get("second")) };
}

/** Wall-clock parts of `at` in `timeZone`: the date (YYYY-MM-DD) and minutes since local midnight. */
export function localParts(at: Date, timeZone: string): { date: string; minuteOfDay: number; hour: number } {
  const w = wallClock(at, timeZone);
  return { date: `${w.year}-${w.month}-${w.day}`, minuteOfDay: w.hour * 60 + w.minute, hour: w.hour };
}

const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/**
 * When a notification held by quiet hours may go: `at` itself outside them, else the local end of
 * the window. Windows may wrap midnight (21:00–07:00). A DST change inside the window shifts
 * the release by that hour at most.
 */
export function releaseAfterQuietHours(at: Date, timeZone: string, quiet: { start: string; end: string } | null): Date {
  if (!quiet) return at;
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  if (start === end) return at;
  const now = localParts(at, timeZone).minuteOfDay;
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return at;
  const wait = (end - now + 1440) % 1440;
  const release = new Date(at.getTime() + wait * 60_000);
  release.setUTCSeconds(0, 0);
  return release;
}

/** The calendar date `days` after `date` (YYYY-MM-DD; negative goes back). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days)).toISOString().slice(0, 10);
}

/** How far `timeZone`'s wall clock is ahead of UTC at `at`, in milliseconds. */
function offsetMs(at: number, timeZone: string): number {
  const w = wallClock(new Date(at), timeZone);
  const wall = Date.UTC(Number(w.year), Number(w.month) - 1, Number(w.day), w.hour, w.minute, w.second);
  return wall - (at - (at % 1000));
}

/**
 * The instant the wall clock in `timeZone` shows `hour`:00 on `date`: the offset to use is the one
 * in force at the answer, which a DST change that day makes differ from the day's other one. An
 * hour that does not exist that day (skipped by a spring-forward change) maps to the instant the
 * clock jumps to; one that happens twice (fall back), to its first occurrence.
 */
export function zonedHour(date: string, hour: number, timeZone: string): Date {
  const [y, m, d] = date.split("-").map(Number);
  const wall = Date.UTC(y ?? 1970, (m ?? 1) - 1, d ?? 1, hour);
  const halfDay = 12 * 60 * 60 * 1000;
  // The offsets in force half a day either side: a transition near `hour` lies between them.
  const candidates = [wall - offsetMs(wall - halfDay, timeZone), wall - offsetMs(wall + halfDay, timeZone)];
  const exact = candidates.filter((t) => localParts(new Date(t), timeZone).hour === hour);
  return new Date(exact.length > 0 ? Math.min(...exact) : Math.max(...candidates));
}
