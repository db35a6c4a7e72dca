// Times as a visitor reads them, in the venue's time zone whatever the phone is set to (the API
// answers times with the venue's offset; VENUE_TIMEZONE defaults to Asia/Shanghai). Pure (no page,
// no network), so that node holds it to its cases (tests/js/shop-dates.test.mjs).
export const VENUE_ZONE = "Asia/Shanghai";
const WEEKDAYS = ["周日", "周一", "周二", "周三", "周四", "周五", "周六"];

function parts(iso, zone) {
  const found = Object.fromEntries(new Intl.DateTimeFormat("en-US", {
    timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", weekday: "short",
  }).formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return found;
}

// The venue's date of an instant: "2026-12-04".
export function venueDate(iso, zone = VENUE_ZONE) {
  const p = parts(iso, zone);
  return `${p.year}-${p.month}-${p.day}`;
}

// The time of day at the venue: "09:00".
export function clock(iso, zone = VENUE_ZONE) {
  const p = parts(iso, zone);
  return `${p.hour}:${p.minute}`;
}

// A date as the catalog heads a day: "12月4日 周五", with 今天/明天 where it is one.
export function dayLabel(date, today) {
  const [y, m, d] = date.split("-").map(Number);
  const weekday = WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
  const label = `${m}月${d}日 ${weekday}`;
  if (today && date === today) return `今天 ${label}`;
  if (today && date === shiftDate(today, 1)) return `明天 ${label}`;
  return label;
}

// A date as a tab of the date strip says it: {when: "今天" | "明天" | "周五", day: "12月4日"}.
export function dateTab(date, today) {
  const [y, m, d] = date.split("-").map(Number);
  const weekday = WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()];
  const when = today && date === today ? "今天" : today && date === shiftDate(today, 1) ? "明天" : weekday;
  return { when, day: `${m}月${d}日` };
}

export function shiftDate(date, days) {
  const [y, m, d] = date.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

// A session (场次) as visitors say it: "09:00–12:00", or with the end's date when it ends another day.
export function sessionHours(session, zone = VENUE_ZONE) {
  const end = venueDate(session.end, zone) === venueDate(session.start, zone)
    ? clock(session.end, zone) : `${dayLabel(venueDate(session.end, zone))} ${clock(session.end, zone)}`;
  return `${clock(session.start, zone)}–${end}`;
}

// A session in full: "12月4日 周五 09:00–12:00".
export function sessionText(session, zone = VENUE_ZONE) {
  if (!session) return "";
  return `${dayLabel(venueDate(session.start, zone))} ${sessionHours(session, zone)}`;
}

// An instant in full at the venue: "2026-12-04 09:00".
export function dateTime(iso, zone = VENUE_ZONE) {
  if (!iso) return "—";
  return `${venueDate(iso, zone)} ${clock(iso, zone)}`;
}

// A ticket product's SKUs by the venue date of their session, dates in order, each day's sessions by
// start time: [{date, skus:[...]}]. SKUs without a session (goods, open tickets) are left out.
export function sessionsByDate(skus, zone = VENUE_ZONE) {
  const days = new Map();
  const timed = (skus || []).filter((s) => s.session)
    .sort((a, b) => Date.parse(a.session.start) - Date.parse(b.session.start) || a.name.localeCompare(b.name));
  for (const sku of timed) {
    const date = venueDate(sku.session.start, zone);
    if (!days.has(date)) days.set(date, []);
    days.get(date).push(sku);
  }
  return [...days].map(([date, list]) => ({ date, skus: list }));
}

// A day's SKUs as its sessions: the ticket types of one session (池座 and 楼座 at 19:00) are one
// session to a visitor choosing a time, with what is left of all of them and the first type still on
// sale: [{start, available, sku_id}] in the day's order.
export function sessionsOf(skus) {
  const sessions = new Map();
  for (const sku of skus) {
    const found = sessions.get(sku.session.start);
    if (!found) sessions.set(sku.session.start, { start: sku.session.start, available: sku.available, sku_id: sku.sku_id });
    else {
      if (found.available <= 0 && sku.available > 0) found.sku_id = sku.sku_id;
      found.available += Math.max(sku.available, 0);
    }
  }
  return [...sessions.values()];
}

// Today at the venue: "2026-12-04".
export const venueToday = (zone = VENUE_ZONE, now = Date.now()) => venueDate(new Date(now).toISOString(), zone);
