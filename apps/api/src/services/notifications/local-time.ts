/** Wall-clock parts of `at` in `timeZone`: the date (YYYY-MM-DD) and minutes since local midnight. */
export function localParts(at: Date, timeZone: string): { date: string; minuteOfDay: number; hour: number } {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "00";
  const hour = Number(get("hour"));
  return { date: `${get("year")}-${get("month")}-${get("day")}`, minuteOfDay: hour * 60 + Number(get("minute")), hour };
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
