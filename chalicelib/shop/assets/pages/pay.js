// 支付: the order to pay and 立即支付. Three ways to pay, by where the shop runs:
// - inside a mini-program's web-view (wx.js): handed over to the mini-program's pay page with
//   wx.miniProgram.navigateTo; it pays with wx.requestPayment and comes back here;
// - on the local stack: the API's payment sandbox stands in for WeChat's pay sheet (POST
//   /orders/{id}/payment opens the trade, POST /dev/payments/{id}/succeed pays it);
// - in a browser of a deployed stage there is no way to pay WeChat Pay: the visitor is told to open
//   the mini-program.
// Each way then waits for the order to be PAID, as WeChat's notice reaches the API.
import { ApiError, get, h, post } from "../api.js";
import { dateTime } from "../dates.js";
import { yuan } from "../money.js";
import { statusWords } from "../words.js";
import { act, orderNumber, row } from "../view.js";
import { askForMessages } from "../subscribe.js";
import { handOver, inMiniProgram } from "../wx.js";

const POLL_MS = 1500;
const POLL_FOR_MS = 120000;

// Asks for the order until it is no longer waiting for payment (or `within` ms have passed).
export async function waitForPayment(orderId, within = POLL_FOR_MS, every = POLL_MS) {
  const until = Date.now() + within;
  for (;;) {
    const order = await get(`/orders/${encodeURIComponent(orderId)}`);
    if (order.status !== "PENDING_PAYMENT" || Date.now() > until) return order;
    await new Promise((resolve) => setTimeout(resolve, every));
  }
}

async function sandboxPay(orderId) {
  await post(`/orders/${encodeURIComponent(orderId)}/payment`, undefined, { key: false });
  try {
    await post(`/dev/payments/${encodeURIComponent(orderId)}/succeed`, {}, { anonymous: true, key: false });
  } catch (e) {
    // No sandbox: a deployed stage, where only WeChat can take the money.
    if (e instanceof ApiError && [403, 404].includes(e.status)) throw new Error("请在微信小程序中打开商城完成支付");
    throw e;
  }
}

function done(order, box) {
  const tickets = order.items.some((i) => i.kind === "ticket");
  box.replaceChildren(h("div", { class: "card paid", testid: "paid" },
    h("h2", { class: "ok-title" }, "支付成功"),
    h("p", {}, tickets ? "门票已出，入场时出示二维码即可。" : "订单已支付。"),
    tickets ? h("a", { class: "button block", href: `#/tickets/${encodeURIComponent(order.order_id)}`, testid: "view-tickets" }, "查看门票") : null,
    h("a", { class: "button secondary block", href: `#/order/${encodeURIComponent(order.order_id)}` }, "查看订单")));
}

async function render(args) {
  const orderId = args[0] || "";
  const order = await get(`/orders/${encodeURIComponent(orderId)}`);
  const box = h("div");
  const status = h("span", { class: "status", testid: "order-status", "data-status": order.status }, statusWords(order.status));
  const summary = h("section", { class: "card" },
    order.items.map((i) => row(`${i.product_name} · ${i.name}`, `× ${i.quantity}`)),
    row("订单号", orderNumber(order.order_id)), row("状态", status),
    order.discount ? row("已优惠", "-" + yuan(order.discount)) : null,
    h("div", { class: "row" }, h("span", {}, "应付"), h("span", { class: "total", testid: "order-total" }, yuan(order.total))),
    order.status === "PENDING_PAYMENT" ? h("p", { class: "muted" }, `请在 ${dateTime(order.expires_at)} 前完成支付，超时订单将自动取消。`) : null);
  if (order.status !== "PENDING_PAYMENT") {
    if (order.status === "PAID") done(order, box);
    return h("div", {}, summary, box);
  }
  const message = h("p", { class: "error", role: "alert", hidden: true, testid: "pay-error" });
  const waitingText = h("span", {}, "正在确认支付结果…");
  const waiting = h("p", { class: "loading", role: "status", hidden: true, testid: "pay-waiting" },
                    h("span", { class: "spinner" }), waitingText);
  const pay = h("button", { type: "button", class: "block", testid: "pay" }, `立即支付 ${yuan(order.total)}`);
  const settle = async () => {
    waiting.hidden = false;
    let now;
    try {
      now = await waitForPayment(orderId);
    } finally {
      waiting.hidden = true;               // a failed check shows its error, not a spinner beside it
    }
    status.dataset.status = now.status;
    status.textContent = statusWords(now.status);
    const here = location.hash.startsWith(`#/pay/${encodeURIComponent(orderId)}`);
    if (now.status !== "PENDING_PAYMENT" && here) window.dispatchEvent(new HashChangeEvent("hashchange"));   // shown afresh
    else { message.hidden = false; message.textContent = "尚未收到支付结果，请稍后在“我的订单”中查看"; }
  };
  pay.addEventListener("click", () => act(pay, message, async () => {
    if (inMiniProgram(window)) {
      const asked = handOver(orderId, window, () => { message.hidden = false; message.textContent = "无法打开小程序支付页，请返回小程序重试"; });
      if (!asked) throw new Error("请返回小程序完成支付");
      waitingText.textContent = "请在小程序中完成支付，完成后将自动刷新…";
      waiting.hidden = false;
      await settle();
      return;
    }
    // The pay tap is where the mini-program asks for the order's messages (in a web-view its native
    // pay page asks, as wx.requestSubscribeMessage runs only there); here the sheet stands in.
    await askForMessages(order.items.some((i) => i.kind === "ticket") ? "ticket_order" : "goods_order");
    await sandboxPay(orderId);
    await settle();
  }, "正在支付…"));
  return h("div", {}, summary, h("div", { class: "action-bar" }, message, waiting, pay), box);
}

export const page = { title: "支付订单", signIn: true, render };
