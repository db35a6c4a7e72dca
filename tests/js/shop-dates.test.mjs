// Times in the shop (chalicelib/shop/assets/dates.js): the venue's clock whatever the phone's zone
// (TZ below is not the venue's), and a ticket's sessions grouped by the venue's date.
import assert from "node:assert/strict";
import { test } from "node:test";

import { clock, dateTab, dateTime, dayLabel, sessionHours, sessionText, sessionsByDate, sessionsOf, shiftDate, venueDate, venueToday }
  from "../../chalicelib/shop/assets/dates.js";

process.env.TZ = "America/New_York";

test("instants are read at the venue", () => {
  assert.equal(venueDate("2026-12-04T17:30:00Z"), "2026-12-05");            // already the 5th in Shanghai
  assert.equal(clock("2026-12-04T17:30:00Z"), "01:30");
  assert.equal(dateTime("2026-12-04T09:00:00+08:00"), "2026-12-04 09:00");
  assert.equal(dateTime(null), "—");
  assert.equal(venueToday("Asia/Shanghai", Date.parse("2026-12-04T20:00:00Z")), "2026-12-05");
});

test("days are named as a visitor says them", () => {
  assert.equal(dayLabel("2026-12-06"), "12月6日 周日");
  assert.equal(dayLabel("2026-12-04", "2026-12-04"), "今天 12月4日 周五");
  assert.equal(dayLabel("2026-12-05", "2026-12-04"), "明天 12月5日 周六");
  assert.equal(shiftDate("2026-12-31", 1), "2027-01-01");
});

test("a session is its hours, with the end's day when it ends another day", () => {
  const session = { start: "2026-12-04T09:00:00+08:00", end: "2026-12-04T12:00:00+08:00" };
  assert.equal(sessionHours(session), "09:00–12:00");
  assert.equal(sessionText(session), "12月4日 周五 09:00–12:00");
  assert.equal(sessionHours({ start: "2026-12-04T22:00:00+08:00", end: "2026-12-05T01:00:00+08:00" }),
               "22:00–12月5日 周六 01:00");
});

test("sessions are grouped by the venue's date, days and hours in order, goods left out", () => {
  const sku = (id, start) => ({ sku_id: id, name: id, session: { start, end: start } });
  const days = sessionsByDate([
    sku("late", "2026-12-05T13:00:00+08:00"), sku("early", "2026-12-05T09:00:00+08:00"),
    sku("first", "2026-12-04T16:30:00Z"),           // 00:30 on the 5th at the venue
    sku("before", "2026-12-04T09:00:00+08:00"), { sku_id: "mug", name: "mug" }]);
  assert.deepEqual(days.map((d) => [d.date, d.skus.map((s) => s.sku_id)]),
                   [["2026-12-04", ["before"]], ["2026-12-05", ["first", "early", "late"]]]);
  assert.deepEqual(sessionsByDate(undefined), []);
});

test("a tab of the date strip says when and which day", () => {
  assert.deepEqual(dateTab("2026-12-04", "2026-12-04"), { when: "今天", day: "12月4日" });
  assert.deepEqual(dateTab("2026-12-05", "2026-12-04"), { when: "明天", day: "12月5日" });
  assert.deepEqual(dateTab("2026-12-06", "2026-12-04"), { when: "周日", day: "12月6日" });
});

test("the ticket types of one session are one session to choose, with what is left of all", () => {
  const at = (start, sku_id, available) => ({ sku_id, available, name: sku_id, session: { start, end: start } });
  assert.deepEqual(sessionsOf([at("2026-12-04T19:00:00+08:00", "stalls", 0), at("2026-12-04T19:00:00+08:00", "circle", 60),
                               at("2026-12-04T21:00:00+08:00", "late", 5)]),
    [{ start: "2026-12-04T19:00:00+08:00", available: 60, sku_id: "circle" },
     { start: "2026-12-04T21:00:00+08:00", available: 5, sku_id: "late" }]);
  assert.deepEqual(sessionsOf([at("2026-12-04T19:00:00+08:00", "a", 0), at("2026-12-04T19:00:00+08:00", "b", 0)]),
    [{ start: "2026-12-04T19:00:00+08:00", available: 0, sku_id: "a" }]);
});
