// The venue's clock (chalicelib/console/assets/venue-time.js): times and days in the zone the
// server names, whatever zone the device is set to (TZ below is not the venue's).
import assert from "node:assert/strict";
import { test } from "node:test";

import { atVenue, localTime, sessionTime, venueClock, venueDate, venueInstant } from "../../chalicelib/console/assets/venue-time.js";

process.env.TZ = "America/New_York";

test("a time is shown as the venue reads it", () => {
  assert.equal(localTime("2026-12-01T02:00:00Z", "Asia/Shanghai"), "2026/12/1 10:00:00");
  assert.equal(localTime("2026-12-01T10:00:00+08:00", "Europe/Berlin"), "2026/12/1 03:00:00");
  assert.equal(venueClock("2026-12-01T02:00:00Z", "Asia/Shanghai"), "10:00:00");
  assert.equal(localTime(null, "Asia/Shanghai"), "—");
});

test("a session reads as its day, its start and its end in the venue's zone", () => {
  const evening = { start: "2026-12-06T10:00:00Z", end: "2026-12-06T12:00:00Z" };
  assert.equal(sessionTime(evening, "Asia/Shanghai"), "2026/12/6 18:00–20:00");
  const late = { start: "2026-12-06T14:00:00Z", end: "2026-12-06T17:00:00Z" };   // 22:00 to 01:00 next day
  assert.equal(sessionTime(late, "Asia/Shanghai"), "2026/12/6 22:00–2026/12/7 01:00");
  assert.equal(sessionTime(null, "Asia/Shanghai"), "—");
});

test("the venue's day turns at its own midnight", () => {
  const justAfter = Date.parse("2026-11-30T16:30:00Z");            // 00:30 on 1 December in Shanghai
  assert.equal(venueDate(0, "Asia/Shanghai", justAfter), "2026-12-01");
  assert.equal(venueDate(-1, "Asia/Shanghai", justAfter), "2026-11-30");
  assert.equal(venueDate(0, "Europe/Berlin", justAfter), "2026-11-30");
});

test("a wall-clock time at the venue takes the venue's offset, daylight saving included", () => {
  assert.equal(atVenue("2026-12-01T09:30", "Asia/Shanghai"), "2026-12-01T09:30:00+08:00");
  assert.equal(atVenue("2026-12-01T00:00:00", "Asia/Shanghai"), "2026-12-01T00:00:00+08:00");
  assert.equal(venueInstant("2026-12-01T09:30", "Asia/Shanghai"), "2026-12-01T01:30:00.000Z");
  assert.equal(atVenue("2026-01-15T09:30", "Europe/Berlin"), "2026-01-15T09:30:00+01:00");
  assert.equal(atVenue("2026-07-15T09:30", "Europe/Berlin"), "2026-07-15T09:30:00+02:00");
  assert.equal(atVenue("2026-03-29T03:30", "Europe/Berlin"), "2026-03-29T03:30:00+02:00");   // the morning clocks go on
  assert.equal(atVenue("2026-10-25T03:30", "Europe/Berlin"), "2026-10-25T03:30:00+01:00");   // and back
  assert.equal(atVenue("2026-12-01T23:59:59", "America/Los_Angeles"), "2026-12-01T23:59:59-08:00");
  assert.equal(atVenue("2026-12-01T09:30", "Asia/Kolkata"), "2026-12-01T09:30:00+05:30");
  assert.equal(venueInstant("", "Asia/Shanghai"), undefined);
});
