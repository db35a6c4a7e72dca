// Money as the console reads and types it (chalicelib/console/assets/money.js): fen in the API,
// yuan and 折 on the screen, never through a float.
import assert from "node:assert/strict";
import { test } from "node:test";

import { InputError, countOf, fenOf, percent, percentOffOf, shortYuan, yuan, yuanInput, zhe, zheInput } from "../../chalicelib/console/assets/money.js";

test("fen are shown as yuan with the sign, thousands and two decimals", () => {
  assert.equal(yuan(123456), "¥1,234.56");
  assert.equal(yuan(-5), "-¥0.05");
  assert.equal(yuan(0), "¥0.00");
  assert.equal(yuan(null), "—");
  assert.equal(shortYuan(10000), "¥100");
  assert.equal(shortYuan(9950), "¥99.50");
});

test("yuan typed become exact fen", () => {
  assert.equal(fenOf("12"), 1200);
  assert.equal(fenOf(" 12.5 "), 1250);
  assert.equal(fenOf("0.07"), 7);
  assert.equal(fenOf("19.99"), 1999);            // 19.99 * 100 is 1998.9999999999998 in a float
  assert.equal(fenOf("¥1,200.00"), 120000);
  assert.equal(fenOf(""), null);
  assert.equal(fenOf(undefined), null);
  for (const bad of ["12.345", "-3", "abc", "1e3", "12.", ".5"]) {
    assert.throws(() => fenOf(bad, "门槛"), (e) => e instanceof InputError && e.message.startsWith("门槛"), bad);
  }
});

test("counts are whole numbers from their minimum", () => {
  assert.equal(countOf("50", "总量"), 50);
  assert.equal(countOf("", "总量"), null);
  assert.throws(() => countOf("0", "总量"), InputError);
  assert.throws(() => countOf("2.5", "总量"), InputError);
  assert.equal(countOf("0", "天数", 0), 0);
});

test("a discount in 折 is the API's percent off and back", () => {
  assert.equal(percentOffOf("8.5"), 15);
  assert.equal(percentOffOf("8折"), 20);
  assert.equal(percentOffOf("9.9"), 1);
  assert.equal(percentOffOf("10"), 0);
  assert.equal(percentOffOf("0.1"), 99);
  assert.equal(percentOffOf(""), null);
  for (const bad of ["0", "11", "8.55", "八折", "-1"]) assert.throws(() => percentOffOf(bad), InputError, bad);
  assert.equal(zhe(15), "8.5折");
  assert.equal(zhe(20), "8折");
  assert.equal(zhe(33), "6.7折");
  assert.equal(zhe(0), "不打折");
  for (const p of [0, 1, 5, 15, 20, 99]) assert.equal(percentOffOf(zheInput(p)), p);     // a field edits what it shows
});

test("a money field shows fen as it would be typed, and reads back the same", () => {
  assert.equal(yuanInput(100000), "1000");
  assert.equal(yuanInput(9950), "99.50");
  assert.equal(yuanInput(7), "0.07");
  for (const fen of [1, 7, 99, 100, 1999, 9950, 123456789]) assert.equal(fenOf(yuanInput(fen)), fen);
});

test("a redemption rate is a percentage with one decimal, none when nothing was issued", () => {
  assert.equal(percent(0.25), "25.0%");
  assert.equal(percent(0.3333), "33.3%");
  assert.equal(percent(0, 0), "—");
});
