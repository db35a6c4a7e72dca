// The venue's clock (场馆时间): staff read times, and the pages count days, in the venue's time
// zone whatever the device is set to. The server names the zone (VENUE_TIMEZONE): the console
// reads it from /openapi.json, the gate from its offline pack, which it keeps and so has offline.
// It is remembered here across reloads; until the server has named it, the device's own zone.
const ZONE = "mm.venue-zone";

export function venueZone() {
  try { return localStorage.getItem(ZONE) || undefined; } catch (e) { return undefined; }
}

export function learnVenueZone(zone) {
  if (!zone || zone === venueZone()) return;
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });          // a name the browser does not know is not kept
    localStorage.setItem(ZONE, zone);
  } catch (e) { /* the device's own zone stays */ }
}

// A time in the venue's zone, as staff read it.
export function localTime(iso, zone = venueZone()) {
  if (!iso) return "—";
  return new Date(iso).toLocaleString("zh-CN", { timeZone: zone, hour12: false });
}

// The time of day only (a gate's list of what it let through).
export function venueClock(iso, zone = venueZone()) {
  return new Date(iso).toLocaleTimeString("zh-CN", { timeZone: zone, hour12: false });
}

// A session (场次) as staff and visitors say it: "2026/12/6 10:00–12:00" in the venue's zone.
export function sessionTime(session, zone = venueZone()) {
  if (!session) return "—";
  const at = (iso, options) => new Date(iso).toLocaleString("zh-CN", { timeZone: zone, hour12: false, ...options });
  const day = { year: "numeric", month: "numeric", day: "numeric" };
  const clock = { hour: "2-digit", minute: "2-digit" };
  const start = `${at(session.start, day)} ${at(session.start, clock)}`;
  const sameDay = at(session.start, day) === at(session.end, day);
  return `${start}–${sameDay ? "" : at(session.end, day) + " "}${at(session.end, clock)}`;
}

// The venue's date (YYYY-MM-DD) today, or `offsetDays` days from now.
export function venueDate(offsetDays = 0, zone = venueZone(), now = Date.now()) {
  return new Date(now + offsetDays * 86400000).toLocaleDateString("sv-SE", { timeZone: zone });
}

// How far `zone` is ahead of UTC at an instant, in minutes.
function offsetMinutes(ms, zone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  return Math.round((wall - Math.floor(ms / 1000) * 1000) / 60000);
}

// A wall-clock time at the venue ("2026-12-01T09:30" from a datetime-local field, or with
// seconds) with the venue's offset at that time: "2026-12-01T09:30:00+08:00".
export function atVenue(value, zone = venueZone()) {
  const text = value.length === 16 ? value + ":00" : value;
  const asUtc = Date.parse(text + "Z");
  // The offset at the instant meant, found from the offset at the wall time read as UTC: twice,
  // so that a wall time near a daylight-saving change takes the offset on its own side.
  const offset = offsetMinutes(asUtc - offsetMinutes(asUtc, zone) * 60000, zone);
  const sign = offset < 0 ? "-" : "+";
  const abs = Math.abs(offset);
  return `${text}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

// What a datetime-local field means at the venue, as the API takes it (UTC).
export function venueInstant(value, zone = venueZone()) {
  return value ? new Date(atVenue(value, zone)).toISOString() : undefined;
}
