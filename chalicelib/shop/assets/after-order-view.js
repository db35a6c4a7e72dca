// What the after-order pages (refund, reschedule, after-sale) share: a tap that waits visibly and
// shows an error in Chinese, a key per request body (a retry of the same request is the same
// request), the order's head, and a status label.
import { ApiError, explain, h, newKey, post } from "./api.js";
import { afterOrderError, orderWord } from "./after-order-words.js";
import { yuan } from "./money.js";
import { act, orderNumber } from "./view.js";

export function say(error) {
  if (error instanceof ApiError) return afterOrderError(error.code, error.details) || explain(error);
  return explain(error);
}

// A button's request on the after-order pages: view.act, its errors in these pages' words.
export const tap = (button, message, action, waiting = "正在提交…") => act(button, message, action, waiting, say);

// One Idempotency-Key per distinct request until it is answered: a double tap or a retry after a
// lost answer sends the same key with the same body and gets the first answer; once answered, the
// same request made again (an after-sale withdrawn and asked for anew) is a new one.
const keys = new Map();

export async function postOnce(path, body) {
  const said = path + " " + JSON.stringify(body);
  if (!keys.has(said)) keys.set(said, newKey());
  const answer = await post(path, body, { key: keys.get(said) });
  keys.delete(said);
  return answer;
}

export const errorLine = () => h("p", { class: "error", role: "alert", hidden: true, testid: "form-error" });

export const statusLabel = (text, status, attributes = {}) =>
  h("span", { class: "state", "data-status": status, ...attributes }, text);

// The order the page is about: its number, status and what it bought.
export function orderHead(order) {
  return h("section", { class: "card order-head" },
    h("div", { class: "row" }, h("span", { class: "muted" }, "订单号"), orderNumber(order.order_id)),
    h("div", { class: "row" }, h("span", { class: "muted" }, "订单状态"),
      statusLabel(orderWord(order.status), order.status, { testid: "after-order-status" })),
    h("div", { class: "row" }, h("span", { class: "muted" }, "实付"), h("span", {}, yuan(order.total))),
    h("ul", { class: "lines" }, (order.items || []).map((l) => h("li", {},
      h("span", {}, `${l.product_name} · ${l.name}`), h("span", { class: "muted" }, `×${l.quantity}`)))));
}

// Runs `again` every `ms` while `more()` says so and the element is on the page, at most `times`.
export function keepLooking(element, more, again, ms = 2000, times = 15) {
  let left = times;
  const look = async () => {
    if (!element.isConnected || !more() || left-- <= 0) return;
    try { await again(); } catch (e) { /* the next look, or the visitor's 刷新 */ }
    setTimeout(look, ms);
  };
  setTimeout(look, ms);
}
