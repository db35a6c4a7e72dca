// The shop's subscribe-message prompt, its pure part (chalicelib/shop/assets/subscribe-words.js):
// which of the stage's templates are asked for at which tap, and what the dialog calls them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SHEET_TITLE, TEMPLATE_NAMES, inMiniProgram, nativePageUrl, templateName, templatesFor }
  from "../../chalicelib/shop/assets/subscribe-words.js";

const STAGE = [
  { event: "ticket_issued", template_id: "local-ticket_issued", ask_at: "ticket_order" },
  { event: "session_reminder", template_id: "local-session_reminder", ask_at: "ticket_order" },
  { event: "session_cancelled", template_id: "local-session_cancelled", ask_at: "ticket_order" },
  { event: "pickup_ready", template_id: "local-pickup_ready", ask_at: "goods_order" },
  { event: "shipped", template_id: "local-shipped", ask_at: "goods_order" },
  { event: "refund_result", template_id: "local-refund_result", ask_at: "refund" },
];

test("each tap asks for its own templates, named in Chinese", () => {
  assert.deepEqual(templatesFor(STAGE, "ticket_order").map((t) => t.name), ["出票通知", "场次提醒", "场次取消"]);
  assert.deepEqual(templatesFor(STAGE, "goods_order").map((t) => t.name), ["待取货", "已发货"]);
  const [refund] = templatesFor(STAGE, "refund");
  assert.equal(refund.template_id, "local-refund_result");
  assert.equal(refund.name, "退款结果");
  assert.ok(refund.hint.length > 0);
});

test("never more than WeChat's three a tap, nothing unconfigured, nothing for an unknown tap", () => {
  const many = [...STAGE, { event: "new_event", template_id: "x", ask_at: "ticket_order" }];
  assert.equal(templatesFor(many, "ticket_order").length, 3);
  assert.deepEqual(templatesFor([{ event: "shipped", template_id: "", ask_at: "goods_order" }], "goods_order"), []);
  assert.deepEqual(templatesFor(STAGE, "checkout"), []);
  assert.deepEqual(templatesFor(undefined, "refund"), []);
});

test("every event has its name, an unknown one a generic one", () => {
  assert.deepEqual(Object.keys(TEMPLATE_NAMES).sort(),
    ["pickup_ready", "refund_result", "session_cancelled", "session_reminder", "shipped", "ticket_issued"]);
  assert.equal(templateName("something_new"), "服务通知");
  assert.equal(SHEET_TITLE, "「文博商城」申请向你发送以下通知");
});

test("the web-view hands over to the native page with the point and the ids", () => {
  assert.equal(nativePageUrl("refund", templatesFor(STAGE, "refund")),
    "/pages/subscribe/index?point=refund&templates=local-refund_result");
  assert.equal(nativePageUrl("goods_order", templatesFor(STAGE, "goods_order")),
    "/pages/subscribe/index?point=goods_order&templates=local-pickup_ready%2Clocal-shipped");
});

test("a mini-program's web-view is known by its marker or its bridge", () => {
  assert.equal(inMiniProgram({ __wxjs_environment: "miniprogram" }), true);
  assert.equal(inMiniProgram({ wx: { miniProgram: {} } }), true);
  assert.equal(inMiniProgram({ wx: {} }), false);
  assert.equal(inMiniProgram({}), false);
  assert.equal(inMiniProgram(undefined), false);
});
