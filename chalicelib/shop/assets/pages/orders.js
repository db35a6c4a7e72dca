// 我的订单: the customer's orders, newest first, each with its status; one opens the order.
import { get, h } from "../api.js";
import { dateTime } from "../dates.js";
import { yuan } from "../money.js";
import { statusWords } from "../words.js";
import { empty, link } from "../view.js";

export function statusBadge(status) {
  return h("span", { class: "status", testid: "order-status", "data-status": status }, statusWords(status));
}

function orderCard(order) {
  const href = `#/order/${encodeURIComponent(order.order_id)}`;
  const first = order.items[0] || {};
  const more = order.items.length > 1 ? ` 等 ${order.items.length} 件` : "";
  return h("a", { class: "card order-card", href, testid: "order-card", "data-order-id": order.order_id },
    h("div", { class: "row" }, h("span", { class: "muted" }, dateTime(order.created_at)), statusBadge(order.status)),
    h("h2", { class: "product-name" }, (first.product_name || "") + more),
    h("div", { class: "row" }, h("span", { class: "muted" }, `共 ${order.items.reduce((n, i) => n + i.quantity, 0)} 件`),
      h("strong", {}, yuan(order.total))));
}

async function render() {
  const answer = await get("/orders?limit=50");
  if (!answer.items.length) return empty("还没有订单", link("#/", "去逛逛", { class: "button" }));
  return h("div", { class: "orders" }, answer.items.map(orderCard),
    answer.next ? h("p", { class: "muted center" }, "仅显示最近 50 笔订单") : null);
}

export const page = { title: "我的订单", signIn: true, render };
