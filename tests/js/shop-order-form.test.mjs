// The order form's rules (chalicelib/shop/assets/order-form.js): the body it sends and what is missing.
import assert from "node:assert/strict";
import { test } from "node:test";

import { missing, orderBody, validPhone, validResidentId } from "../../chalicelib/shop/assets/order-form.js";

const form = (extra = {}) => ({
  sku_id: "S1", quantity: 2, realName: true, coupon_id: null, fulfillment: null,
  visitors: [{ name: " 王小明 ", id_type: "id_card", id_number: "11010519491231002x" },
             { name: "李华", id_type: "id_card", id_number: "110101199003077774" }],
  contact: { name: "王小明", phone: "13800138000" },
  address: { recipient: "", phone: "", region: "", detail: "" }, ...extra });

test("a resident ID's check digit and a mainland mobile number are checked", () => {
  assert.ok(validResidentId("11010519491231002X"));
  assert.ok(validResidentId("11010519491231002x"));
  assert.ok(!validResidentId("110105194912310021"));
  assert.ok(!validResidentId("1101051949"));
  assert.ok(validPhone("13800138000") && !validPhone("1380013800") && !validPhone("23800138000"));
});

test("the body names the SKU, one visitor per ticket, the contact and the coupon", () => {
  assert.deepEqual(orderBody(form({ coupon_id: "UC1" })), {
    items: [{ sku_id: "S1", quantity: 2 }], contact: { name: "王小明", phone: "13800138000" },
    visitors: [{ name: "王小明", id_type: "id_card", id_number: "11010519491231002X" },
               { name: "李华", id_type: "id_card", id_number: "110101199003077774" }],
    coupon_id: "UC1" });
  assert.equal(orderBody(form({ quantity: 1 })).visitors.length, 1);
  assert.equal(orderBody(form({ realName: false })).visitors, undefined);
});

test("goods by post carry the address; by pickup none", () => {
  const address = { recipient: "张三", phone: "13900139000", region: "北京市 东城区", detail: "景山前街 4 号" };
  const post = orderBody(form({ realName: false, quantity: 1, fulfillment: "shipping", address }));
  assert.equal(post.fulfillment, "shipping");
  assert.deepEqual(post.address, address);
  const pickup = orderBody(form({ realName: false, quantity: 1, fulfillment: "pickup", address }));
  assert.equal(pickup.fulfillment, "pickup");
  assert.equal(pickup.address, undefined);
});

test("what is missing is said in the visitor's words", () => {
  assert.deepEqual(missing(form()), []);
  assert.deepEqual(missing(form({ quantity: 3 })), ["第 3 位游客的姓名", "第 3 位游客的证件号码"]);
  assert.deepEqual(missing(form({ contact: { name: "", phone: "138" } })), ["联系人姓名", "联系人手机号（11 位）"]);
  const wrong = form();
  wrong.visitors[1].id_number = "110101199003077775";
  assert.deepEqual(missing(wrong), ["第 2 位游客的身份证号码（18 位，末位校验码）"]);
  const passport = form();
  passport.visitors[1] = { name: "Tom", id_type: "passport", id_number: "E12345678" };
  assert.deepEqual(missing(passport), []);
  assert.deepEqual(missing(form({ realName: false, fulfillment: "shipping" })), ["收件人", "收件人手机号", "所在地区", "详细地址"]);
});
