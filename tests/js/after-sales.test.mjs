// 售后 in staff's words (chalicelib/console/assets/after-sales-words.js): the queue's states, the
// steps each state allows, shipments and the report's figures.
import assert from "node:assert/strict";
import { test } from "node:test";

import { AFTER_SALE_STATES, hoursWords, linesWords, ratePercent, reasonChart, reasonWord, replacementWords,
         returnWords, stateWord, stepsFor, typeWord } from "../../chalicelib/console/assets/after-sales-words.js";

test("every state, type and reason has its Chinese word", () => {
  assert.deepEqual(AFTER_SALE_STATES.map(([s]) => s),
    ["REQUESTED", "APPROVED", "RETURNING", "RECEIVED", "COMPLETED", "REJECTED", "CANCELLED"]);
  assert.equal(stateWord("RETURNING"), "退回中");
  assert.equal(typeWord("return_refund"), "退货退款");
  assert.equal(typeWord("exchange"), "换货");
  assert.equal(reasonWord("size"), "尺码/规格不合适");
  assert.equal(reasonWord("no_longer_needed"), "不想要了");
  assert.equal(reasonWord("something_new"), "something_new");       // a reason added later shows as it is
});

test("each state offers the steps the API allows in it, within the roles", () => {
  const ret = (status) => ({ type: "return_refund", status });
  const exchange = (status) => ({ type: "exchange", status });
  assert.deepEqual(stepsFor(ret("REQUESTED")), ["approve", "reject"]);
  assert.deepEqual(stepsFor(ret("APPROVED")), ["receive", "reject"]);
  assert.deepEqual(stepsFor(ret("RETURNING")), ["receive", "reject"]);
  assert.deepEqual(stepsFor(ret("RECEIVED")), []);                   // the refund completes it
  assert.deepEqual(stepsFor(exchange("RECEIVED")), ["ship"]);
  for (const status of ["COMPLETED", "REJECTED", "CANCELLED"]) assert.deepEqual(stepsFor(exchange(status)), []);
  assert.deepEqual(stepsFor(ret("APPROVED"), (step) => step === "receive"), ["receive"]);   // a merchandiser
  assert.deepEqual(stepsFor(ret("REQUESTED"), () => false), []);                          // finance reads only
});

test("shipments read as staff say them", () => {
  assert.equal(returnWords({ carrier: "顺丰", tracking_no: "SF123" }), "顺丰 SF123");
  assert.equal(returnWords({ at_counter: "true" }), "到店退回");
  assert.equal(returnWords(undefined), "—");
  assert.equal(replacementWords({ pickup_code: "P-1234", pickup_ticket_id: "t1" }), "到店自提，提货码 P-1234");
  assert.equal(replacementWords({ carrier: "EMS", tracking_no: "E1" }), "EMS E1");
});

test("lines name the product and spec when known, else the SKU", () => {
  const lines = [{ sku_id: "s1", quantity: 2 }, { sku_id: "s2", quantity: 1 }];
  assert.equal(linesWords(lines, { s1: { product: "帆布袋", spec: "大号" } }), "帆布袋 / 大号 × 2，s2 × 1");
});

test("the report's figures: a ratio as a percent, hours, bars by reason", () => {
  assert.equal(ratePercent(0.0425), "4.3%");
  assert.equal(ratePercent(null), "—");
  assert.equal(hoursWords(26.25), "26.3 小时");
  assert.equal(hoursWords(undefined), "—");
  const chart = reasonChart([{ key: "damaged", label: "damaged", requests: 3, returns: 2, exchanges: 1, refunded: 5000 },
                             { key: "x", label: "X", requests: 1, returns: 0, exchanges: 1, refunded: 0 }]);
  assert.deepEqual(chart.labels, ["商品损坏", "X"]);
  assert.deepEqual(chart.series.map((s) => s.data), [[2, 0], [1, 1]]);
});
