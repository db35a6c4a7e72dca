// 我的门票: each ticket a screen of its own, its QR code as large as the phone allows (the payload
// exactly as the API gives it, data-qr) and the manual code printed below it for a gate without a
// camera. Full screen, without the shop's bars: held up to a scanner at the gate.
import { get, h } from "../api.js";
import { sessionText, dateTime } from "../dates.js";
import { qrSvg } from "../qr.js";
import { TICKET_STATUS } from "../words.js";
import { empty } from "../view.js";

function ticketScreen(ticket, index, count, names, orderId) {
  const usable = ticket.status === "VALID";
  return h("section", { class: "ticket" + (usable ? "" : " used"), testid: "ticket", "data-status": ticket.status,
                        "aria-label": `门票 ${index + 1}/${count}` },
    h("p", { class: "muted" }, `门票 ${index + 1} / ${count} · ${TICKET_STATUS[ticket.status] || ticket.status}`),
    h("div", { class: "qr", testid: "ticket-qr", "data-qr": ticket.qr }, qrSvg(ticket.qr, "入场二维码")),
    h("p", { class: "code", testid: "ticket-code" }, ticket.code),
    h("p", { class: "muted" }, "无法扫码时，请向工作人员出示上方数字码"),
    h("p", { class: "what" }, names.get(ticket.sku_id) || ""),
    h("p", { class: "what" }, ticket.session ? sessionText(ticket.session) : `${dateTime(ticket.valid_from)} 起有效`),
    ticket.visitor ? h("p", {}, `游客：${ticket.visitor.name}`) : null,
    ticket.redeemed_at ? h("p", { class: "muted" }, `已于 ${dateTime(ticket.redeemed_at)} 入场`) : null,
    usable && ticket.session && ticket.reschedules_left > 0
      ? h("a", { class: "button secondary", testid: "ticket-reschedule",
                 href: `#/reschedule/${encodeURIComponent(orderId)}?ticket=${encodeURIComponent(ticket.ticket_id)}` }, "改签")
      : null);
}

async function render(args) {
  const orderId = args[0] || "";
  const [answer, order] = await Promise.all([get(`/orders/${encodeURIComponent(orderId)}/tickets`),
                                             get(`/orders/${encodeURIComponent(orderId)}`)]);
  const names = new Map(order.items.map((i) => [i.sku_id, `${i.product_name} · ${i.name}`]));
  const items = answer.items || [];
  if (!items.length) return empty("该订单暂无门票");
  return h("div", { class: "ticket-list" }, items.map((t, i) => ticketScreen(t, i, items.length, names, orderId)),
    h("nav", { class: "ticket-nav" }, h("a", { class: "button secondary", href: `#/order/${encodeURIComponent(orderId)}` }, "订单详情"),
      h("a", { class: "button secondary", href: "#/orders" }, "我的订单")));
}

export const page = { title: "我的门票", signIn: true, fullScreen: true, render };
