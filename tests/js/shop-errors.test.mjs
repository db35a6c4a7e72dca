// The API's errors in the visitor's words (chalicelib/shop/assets/errors.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { explainError, fieldWords } from "../../chalicelib/shop/assets/errors.js";

test("codes are said in Chinese", () => {
  assert.equal(explainError("SOLD_OUT"), "库存不足，请减少数量或选择其他场次");
  assert.equal(explainError("COUPON_LIMIT_REACHED"), "您已领取过该优惠券");
  assert.equal(explainError("UNPAID_LIMIT"), "您有未支付的订单，请先支付或取消后再下单");
});

test("a code the shop does not know never shows the API's English", () => {
  assert.equal(explainError("SOMETHING_NEW", {}, "something new happened"), "出错了，请稍后重试");
  assert.equal(explainError("SOMETHING_NEW", {}, "场馆临时闭馆"), "场馆临时闭馆");
});

test("a validation error names the field", () => {
  assert.equal(explainError("VALIDATION_ERROR", { field: "contact.phone" }, "contact.phone is not a phone number"),
               "联系人手机号填写有误，请检查");
  assert.equal(fieldWords("visitors[1].id_number"), "第 2 位游客的证件号码");
  assert.equal(explainError("VALIDATION_ERROR", {}), "填写的信息有误");
});
