// The settings page's words for a stage's subscribe-message templates.
import assert from "node:assert/strict";
import { test } from "node:test";
import { eventWord, fieldsWord, pageWord } from "../../chalicelib/console/assets/message-words.js";

test("each event reads as staff call it, an unknown one as itself", () => {
  assert.equal(eventWord("ticket_issued"), "出票通知");
  assert.equal(eventWord("session_cancelled"), "场次取消");
  assert.equal(eventWord("new_event"), "new_event");
});

test("a template's fields read as WeChat's template console names their kinds", () => {
  assert.equal(fieldsWord([{ key: "thing1", kind: "thing" }, { key: "time2", kind: "time" },
                           { key: "amount3", kind: "amount" }]), "thing1（事物）、time2（时间）、amount3（金额）");
  assert.equal(fieldsWord([]), "");
});

test("a page reads as the mini-program's path", () => {
  assert.equal(pageWord("pages/tickets/index?order_id={order_id}"), "/pages/tickets/index?order_id={order_id}");
  assert.equal(pageWord(""), "—");
});
