// Paying inside a mini-program (chalicelib/shop/assets/wx.js): detected, and handed over to the
// mini-program's pay page with the order.
import assert from "node:assert/strict";
import { test } from "node:test";

import { handOver, inMiniProgram, payPageUrl } from "../../chalicelib/shop/assets/wx.js";

test("a web-view of a mini-program is recognised either way WeChat says it", () => {
  assert.ok(inMiniProgram({ wx: { miniProgram: {} } }));
  assert.ok(inMiniProgram({ __wxjs_environment: "miniprogram" }));
  assert.ok(!inMiniProgram({}));
  assert.ok(!inMiniProgram({ wx: {} }));
});

test("the order is handed to /pages/pay/index", () => {
  const asked = [];
  const win = { wx: { miniProgram: { navigateTo: (o) => asked.push(o.url) } } };
  assert.equal(handOver("O2026-1_a", win), true);
  assert.deepEqual(asked, ["/pages/pay/index?order_id=O2026-1_a"]);
  assert.equal(payPageUrl("a b"), "/pages/pay/index?order_id=a%20b");
  assert.equal(handOver("O1", { __wxjs_environment: "miniprogram" }), false);     // no JSSDK to ask
});
