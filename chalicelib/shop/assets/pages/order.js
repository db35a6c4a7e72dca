// 订单详情: what was bought, the price, the status and its history, and what can be done next.
import { get, h, post } from "../api.js";
import { dateTime, sessionText } from "../dates.js";
import { yuan } from "../money.js";
import { qrSvg } from "../qr.js";
import { FULFILLMENT, actorWords, statusWords } from "../words.js";
import { act, orderNumber, row } from "../view.js";
import { statusBadge } from "./orders.js";

const enc = encodeURIComponent;

// What an order offers next, by its state: each entry `(order) => element or null`. The pages behind
// refund (退款), reschedule (改签) and after-sales (售后) say per ticket or line what can be done; the
// API decides (a ticket already used, a session too close, a return window over).
const hasTickets = (o) => o.items.some((i) => i.kind === "ticket");
const hasGoods = (o) => o.items.some((i) => i.kind === "merch");
const handedOver = (o) => (o.pickup && o.pickup.status === "REDEEMED") || o.status === "COMPLETED";
const link = (href, testid, text, secondary = true) =>
  h("a", { class: secondary ? "button secondary block" : "button block", href, testid }, text);
const REFUNDED = ["REFUNDING", "REFUNDED", "PARTIALLY_REFUNDED"];

export const ORDER_ACTIONS = [
  (o) => (o.status === "PENDING_PAYMENT" ? link(`#/pay/${enc(o.order_id)}`, "to-pay", "去支付", false) : null),
  (o) => (hasTickets(o) && ["PAID", "COMPLETED", "PARTIALLY_REFUNDED"].includes(o.status)
    ? link(`#/tickets/${enc(o.order_id)}`, "view-tickets", "查看门票", false) : null),
  (o) => (hasTickets(o) && ["PAID", "PARTIALLY_REFUNDED"].includes(o.status)
    ? link(`#/reschedule/${enc(o.order_id)}`, "to-reschedule", "改签") : null),
  (o) => {
    const open = ["PAID", "SHIPPED", "COMPLETED", "PARTIALLY_REFUNDED", "REFUNDING"].includes(o.status);
    const byRefund = hasTickets(o) || (hasGoods(o) && !handedOver(o));
    if (byRefund && open) return link(`#/refund/${enc(o.order_id)}`, "to-refund", REFUNDED.includes(o.status) ? "退款进度 / 再次退款" : "申请退款");
    return REFUNDED.includes(o.status) ? link(`#/refund/${enc(o.order_id)}`, "to-refund", "退款进度") : null;
  },
  (o) => (hasGoods(o) && handedOver(o) ? link(`#/after-sale/${enc(o.order_id)}`, "to-after-sale", "申请售后 / 售后进度") : null),
];

function cancelButton(order, message) {
  if (order.status !== "PENDING_PAYMENT") return null;
  const button = h("button", { type: "button", class: "secondary block", testid: "cancel-order" }, "取消订单");
  button.addEventListener("click", () => act(button, message, async () => {
    if (!window.confirm("确定取消这笔订单吗？")) return;
    await post(`/orders/${enc(order.order_id)}/cancel`);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  }, "正在取消…"));
  return button;
}

function pickup(order) {
  if (!order.pickup) return null;
  return h("section", { class: "card center" }, h("h2", { class: "card-title" }, "自提码"),
    h("div", { class: "qr small", testid: "pickup-qr", "data-qr": order.pickup.qr }, qrSvg(order.pickup.qr, "自提二维码")),
    h("p", { class: "code" }, order.pickup.code), h("p", { class: "muted" }, "到店出示此码领取商品"));
}

async function render(args) {
  const order = await get(`/orders/${enc(args[0] || "")}`);
  const message = h("p", { class: "error", role: "alert", hidden: true });
  const lines = order.items.map((i) => h("div", { class: "line" },
    h("div", { class: "row" }, h("strong", {}, i.product_name), h("span", {}, `× ${i.quantity}`)),
    h("div", { class: "row" }, h("span", { class: "muted" }, i.session ? sessionText(i.session) : i.name), h("span", {}, yuan(i.paid)))));
  const history = (order.history || []).slice().reverse();
  return h("div", { class: "order" },
    h("section", { class: "card" }, h("div", { class: "row" }, h("span", { class: "muted" }, "订单状态"), statusBadge(order.status)),
      row("订单号", orderNumber(order.order_id)), row("下单时间", dateTime(order.created_at)),
      order.status === "PENDING_PAYMENT" ? h("p", { class: "notice" }, `请在 ${dateTime(order.expires_at)} 前完成支付，超时订单将自动取消。`) : null,
      h("div", { class: "actions" }, message, ORDER_ACTIONS.map((make) => make(order)))),
    pickup(order),
    h("section", { class: "card" }, lines, h("hr"), row("商品金额", yuan(order.subtotal)),
      ...(order.promotions || []).map((p) => row(p.name, "-" + yuan(p.amount))),
      h("div", { class: "row" }, h("span", {}, order.status === "PENDING_PAYMENT" ? "应付" : "实付"),
        h("span", { class: "total", testid: "order-total" }, yuan(order.total)))),
    h("section", { class: "card" }, h("h2", { class: "card-title" }, "联系人"),
      row("姓名", order.contact && order.contact.name), row("手机号", order.contact && order.contact.phone),
      order.fulfillment ? row("取货方式", FULFILLMENT[order.fulfillment] || order.fulfillment) : null,
      order.address ? row("收货地址", `${order.address.recipient} ${order.address.phone} ${order.address.region} ${order.address.detail}`) : null,
      (order.visitors || []).map((v, i) => row(`游客 ${i + 1}`, `${v.name} ${v.id_number || ""}`))),
    history.length ? h("section", { class: "card" }, h("h2", { class: "card-title" }, "订单记录"),
      h("ol", { class: "history", testid: "order-history" }, history.map((e) => h("li", {},
        h("strong", {}, statusWords(e.status)), " ", h("span", { class: "muted" }, `${dateTime(e.at)} · ${actorWords(e.by)}`))))) : null,
    cancelButton(order, message));
}

export const page = { title: "订单详情", signIn: true, render };
