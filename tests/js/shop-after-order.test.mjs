// After an order, in the visitor's words and by API.md's rules (chalicelib/shop/assets/after-order-words.js):
// what may be refunded and for about how much, where a ticket may move, what may still go back.
import assert from "node:assert/strict";
import { test } from "node:test";
import { afterOrderError, customerSteps, exchangeOptions, lineOf, refundEstimate, refundHint, reschedulable,
         rescheduleDeadline, rescheduleOptions, roomByLine, specText, ticketRefundable, unitsRange }
  from "../../chalicelib/shop/assets/after-order-words.js";

const NOW = Date.parse("2026-12-04T10:00:00+08:00");
const ticket = (over = {}) => ({ ticket_id: "T1", kind: "ticket", sku_id: "S1", product_name: "常设展", name: "成人票",
  status: "VALID", valid_from: "2026-12-06T09:00:00+08:00", valid_until: "2026-12-06T12:00:00+08:00",
  session: { start: "2026-12-06T09:00:00+08:00", end: "2026-12-06T12:00:00+08:00" }, reschedules_left: 1, ...over });

test("a ticket is refundable unused and before its end; from admission it needs review", () => {
  assert.deepEqual(ticketRefundable(ticket(), NOW), { ok: true, why: "", review: false });
  assert.equal(ticketRefundable(ticket({ valid_from: "2026-12-04T09:00:00+08:00" }), NOW).review, true);
  assert.equal(ticketRefundable(ticket({ status: "REDEEMED" }), NOW).why, "已使用");
  assert.equal(ticketRefundable(ticket({ status: "REVOKED" }), NOW).ok, false);
  assert.equal(ticketRefundable(ticket({ valid_until: "2026-12-04T09:00:00+08:00" }), NOW).why, "已过期");
});

test("units share their line's paid by largest remainder: the estimate is exact or a range", () => {
  const line = { sku_id: "S1", paid: 10000, quantity: 3 };          // 3334, 3333, 3333
  assert.deepEqual(unitsRange(line, 1), { low: 3333, high: 3334 });
  assert.deepEqual(unitsRange(line, 3), { low: 10000, high: 10000 });
  assert.deepEqual(unitsRange({ paid: 9000, quantity: 2 }, 1), { low: 4500, high: 4500 });
  const order = { items: [{ sku_id: "S1", kind: "ticket", product_name: "常设展", name: "成人票", paid: 9000, quantity: 2 },
                          { sku_id: "M1", kind: "merch", paid: 6800, quantity: 1 }] };
  assert.deepEqual(refundEstimate(order, [ticket()]), { low: 4500, high: 4500 });
  assert.deepEqual(refundEstimate(order, [], true), { low: 6800, high: 6800 });
  // a ticket moved by 改签 carries the new session's SKU: still its line's share
  assert.equal(lineOf(order, ticket({ sku_id: "S9" })).sku_id, "S1");
});

test("refunds and errors read in Chinese", () => {
  assert.match(refundHint({ status: "REQUESTED", review_reasons: ["goods"] }), /商品/);
  assert.match(refundHint({ status: "REJECTED", reject_reason: "已入场" }), /已入场/);
  assert.equal(afterOrderError("NOT_RESCHEDULABLE", { reason: "too_late" }), "已过改签截止时间");
  assert.equal(afterOrderError("NOT_RESCHEDULABLE", { reason: "new" }), "该门票不能改签");
  assert.equal(afterOrderError("SOMETHING", {}), null);
});

test("改签: once, until the session's start less the cutoff (default 2 hours)", () => {
  const product = { reschedule_cutoff_minutes: 30 };
  assert.equal(rescheduleDeadline(ticket(), {}), Date.parse("2026-12-06T07:00:00+08:00"));
  assert.equal(rescheduleDeadline(ticket(), product), Date.parse("2026-12-06T08:30:00+08:00"));
  assert.equal(reschedulable(ticket(), {}, NOW).ok, true);
  assert.equal(reschedulable(ticket({ reschedules_left: 0 }), {}, NOW).why, "已改签过");
  assert.equal(reschedulable(ticket(), {}, Date.parse("2026-12-06T07:30:00+08:00")).why, "已过改签截止时间");
  assert.equal(reschedulable(ticket({ status: "REDEEMED" }), {}, NOW).why, "已使用");
});

test("改签 offers the other sessions at the same price that have not started, by date", () => {
  const pad = (n) => String(n).padStart(2, "0");
  const session = (day, hour) => ({ start: `2026-12-0${day}T${pad(hour)}:00:00+08:00`, end: `2026-12-0${day}T${pad(hour + 2)}:00:00+08:00` });
  const product = { skus: [
    { sku_id: "S1", name: "成人票", price: 6000, available: 3, session: session(6, 9) },
    { sku_id: "S2", name: "成人票", price: 6000, available: 0, session: session(6, 14) },
    { sku_id: "S3", name: "成人票", price: 6000, available: 8, session: session(7, 9) },
    { sku_id: "S4", name: "优惠票", price: 3000, available: 8, session: session(7, 9) },
    { sku_id: "S5", name: "成人票", price: 6000, available: 8, session: { start: "2026-12-04T09:00:00+08:00", end: "2026-12-04T11:00:00+08:00" } },
  ] };
  const days = rescheduleOptions(product, ticket(), NOW);
  assert.deepEqual(days.map((d) => [d.date, d.skus.map((s) => [s.sku_id, s.soldOut])]),
    [["2026-12-06", [["S2", true]]], ["2026-12-07", [["S3", false]]]]);
});

test("售后: what may still go back, the steps of each state, the specs to exchange for", () => {
  const order = { items: [{ sku_id: "M1", kind: "merch", quantity: 2 }, { sku_id: "T", kind: "ticket", quantity: 1 }] };
  assert.deepEqual(roomByLine(order, []).map((e) => e.room), [2]);
  const asked = [{ status: "REQUESTED", lines: [{ sku_id: "M1", quantity: 1 }] },
                 { status: "CANCELLED", lines: [{ sku_id: "M1", quantity: 1 }] }];
  assert.deepEqual(roomByLine(order, asked).map((e) => e.room), [1]);
  assert.deepEqual(customerSteps({ status: "APPROVED" }), ["send", "counter", "cancel"]);
  assert.deepEqual(customerSteps({ status: "RECEIVED" }), []);
  const product = { skus: [{ sku_id: "M1", price: 6800, attributes: { size: "大号" } }, { sku_id: "M2", price: 6800, name: "小号" },
                           { sku_id: "M3", price: 9900, name: "礼盒" }] };
  assert.deepEqual(exchangeOptions(product, "M1").map((s) => s.sku_id), ["M2"]);
  assert.equal(specText(product.skus[0]), "大号");
  assert.equal(specText(product.skus[1]), "小号");
});
