// Money in the shop (chalicelib/shop/assets/money.js): fen from the API, yuan on the screen.
import assert from "node:assert/strict";
import { test } from "node:test";

import { couponCondition, couponValue, priceFrom, shortYuan, yuan } from "../../chalicelib/shop/assets/money.js";

test("fen are shown as yuan with two decimals", () => {
  assert.equal(yuan(1200), "¥12.00");
  assert.equal(yuan(123456), "¥1,234.56");
  assert.equal(yuan(5), "¥0.05");
  assert.equal(yuan(0), "¥0.00");
  assert.equal(yuan(-2000), "-¥20.00");
  assert.equal(yuan(undefined), "—");
  assert.equal(shortYuan(2000), "¥20");
  assert.equal(shortYuan(1950), "¥19.50");
});

test("a coupon in the words of a coupon", () => {
  assert.equal(couponValue({ kind: "cash", amount: 2000 }), "¥20");
  assert.equal(couponValue({ kind: "percent", percent_off: 15 }), "8.5折");
  assert.equal(couponValue({ kind: "percent", percent_off: 20, max_discount: 5000 }), "8折（最多减¥50）");
  assert.equal(couponCondition({ threshold: 10000 }), "满¥100可用");
  assert.equal(couponCondition({ threshold: 0 }), "无门槛");
});

test("a product's price is its cheapest SKU's, 起 when they differ", () => {
  assert.equal(priceFrom([{ price: 6000 }, { price: 6000 }]), "¥60.00");
  assert.equal(priceFrom([{ price: 8000 }, { price: 6000 }]), "¥60.00 起");
  assert.equal(priceFrom([]), "—");
});
