// 申请退款 (#/refund/<order_id>): chosen tickets of a paid order, or its goods not yet handed over,
// with a reason; what it would refund (each unit refunds its share of what was paid); then the
// order's refunds and their status, looked at again while the money is on its way.
import { get, h } from "../api.js";
import { sessionText } from "../dates.js";
import { yuan } from "../money.js";
import { askForMessages } from "../subscribe.js";
import { REFUND_REASONS, refundEstimate, refundHint, refundMoving, refundWord, ticketRefundable }
  from "../after-order-words.js";
import { errorLine, keepLooking, postOnce, orderHead, statusLabel, tap } from "../after-order-view.js";

const REFUNDABLE = ["PAID", "SHIPPED", "COMPLETED", "REFUNDING", "PARTIALLY_REFUNDED"];
const GOODS_REFUNDABLE = ["PAID", "SHIPPED", "REFUNDING", "PARTIALLY_REFUNDED"];

function refundCard(refund) {
  return h("li", { class: "card refund", testid: "refund-item", "data-refund-id": refund.refund_id,
                   "data-status": refund.status },
    h("div", { class: "row" }, h("strong", {}, yuan(refund.amount)),
      statusLabel(refundWord(refund.status), refund.status, { testid: "refund-status" })),
    h("p", { class: "muted small" }, refundHint(refund)),
    h("p", { class: "small" }, `原因：${refund.reason}`),
    h("p", { class: "muted small" }, `${refund.tickets ? `${refund.tickets} 张门票 · ` : ""}申请时间 `,
      refund.created_at.slice(0, 16).replace("T", " ")));
}

function ticketChoice(ticket, order, onChange) {
  const can = ticketRefundable(ticket);
  const box = h("input", { type: "checkbox", value: ticket.ticket_id, disabled: !can.ok, onchange: onChange });
  return h("label", { class: "choice" + (can.ok ? "" : " disabled"), testid: "refund-ticket",
                      "data-ticket-id": ticket.ticket_id },
    box,
    h("span", { class: "grow" }, h("strong", {}, ticket.name),
      h("span", { class: "why" + (can.ok && !can.review ? " can" : "") }, can.why || "可退"),
      h("span", { class: "muted small block" }, sessionText(ticket.session) || ticket.product_name),
      ticket.visitor && ticket.visitor.name ? h("span", { class: "muted small block" }, `游客 ${ticket.visitor.name}`) : null));
}

function reasonPicker() {
  const note = h("textarea", { id: "refund-note", rows: 2, maxlength: 150, placeholder: "补充说明（选填）" });
  const radios = REFUND_REASONS.map((r, i) => h("label", { class: "pill" },
    h("input", { type: "radio", name: "refund-reason", value: r, checked: i === 0 }), r));
  const value = () => {
    const chosen = radios.map((l) => l.querySelector("input")).find((i) => i.checked).value;
    const more = note.value.trim();
    return more ? `${chosen}：${more}` : chosen;
  };
  return { element: h("fieldset", {}, h("legend", {}, "退款原因"), h("div", { class: "pills" }, radios),
                      h("label", { for: "refund-note", class: "sr-only" }, "补充说明"), note), value };
}

function form(order, tickets, reload) {
  const ticketLines = tickets.filter((t) => t.kind !== "pickup");
  const hasGoods = (order.items || []).some((l) => l.kind === "merch");
  const handedOver = Boolean(order.pickup && order.pickup.status === "REDEEMED");
  const goods = hasGoods && !ticketLines.length && !handedOver && GOODS_REFUNDABLE.includes(order.status);
  if (!REFUNDABLE.includes(order.status)) return h("p", { class: "notice" }, "该订单当前状态不能申请退款");
  if (hasGoods && !ticketLines.length && !goods) {
    return h("p", { class: "notice" }, "商品已交付，如需退货请 ",
             h("a", { class: "button secondary block", href: `#/after-sale/${encodeURIComponent(order.order_id)}`, testid: "to-after-sale" }, "申请售后"));
  }
  const estimate = h("strong", { class: "total", testid: "refund-estimate" }, "—");
  const note = h("p", { class: "muted small", testid: "refund-rule" });
  const chosen = () => [...list.querySelectorAll("input:checked")].map((i) => tickets.find((t) => t.ticket_id === i.value));
  const update = () => {
    const picked = goods ? [] : chosen();
    const { low, high } = refundEstimate(order, picked, goods);
    estimate.textContent = low === high ? yuan(low) : `约 ${yuan(low)}–${yuan(high)}`;
    const review = goods || picked.some((t) => ticketRefundable(t).review);
    note.textContent = goods ? "商品退款需工作人员审核，审核通过后原路退回。"
      : review ? "所选门票已到入场时间，需工作人员确认未入场后退款。" : "入场前退票无需审核，提交后立即原路退回。";
    submit.disabled = !goods && !picked.length;
  };
  const list = h("div", { class: "choices" }, goods ? null : ticketLines.map((t) => ticketChoice(t, order, update)));
  const all = h("button", { type: "button", class: "secondary small-button", testid: "refund-all", onclick: () => {
    const boxes = [...list.querySelectorAll("input:not(:disabled)")];
    const every = boxes.every((b) => b.checked);
    boxes.forEach((b) => { b.checked = !every; });
    update();
  } }, "全选");
  const reason = reasonPicker();
  const message = errorLine();
  const submit = h("button", { type: "submit", class: "block", testid: "refund-submit" }, "申请退款");
  const element = h("form", { class: "card", onsubmit: async (event) => {
    event.preventDefault();
    const body = { reason: reason.value() };
    if (!goods) body.ticket_ids = chosen().map((t) => t.ticket_id);
    const path = `/orders/${encodeURIComponent(order.order_id)}/refunds`;
    const done = await tap(submit, message, async () => {
      await askForMessages("refund");
      return postOnce(path, body);
    });
    if (done) await reload(done.refund_id);
  } },
    goods ? h("p", {}, "退还订单中的全部商品") : h("div", { class: "row head" }, h("h2", {}, "选择要退的门票"), all),
    list, reason.element,
    h("div", { class: "row estimate" }, h("span", {}, "预计退款"), estimate), note,
    h("p", { class: "muted small" }, "按实付金额退回，优惠分摊后以实际到账为准。"), message, submit);
  update();
  return element;
}

function refundList(refunds) {
  const items = (refunds.items || []).slice().sort((a, b) => b.created_at.localeCompare(a.created_at));
  return { items, element: items.length ? h("section", {}, h("h2", { class: "section-title" }, "退款记录"),
                                            h("ul", { class: "plain" }, items.map(refundCard))) : h("div") };
}

async function render([orderId]) {
  const root = h("div", { class: "after-order" });
  const id = encodeURIComponent(orderId || "");
  let generation = 0;
  const load = async (fresh, scroll = true) => {
    const mine = ++generation;
    const order = await get(`/orders/${id}`);
    const [tickets, refunds] = await Promise.all([
      order.status === "PENDING_PAYMENT" ? { items: [] } : get(`/orders/${id}/tickets`),
      get(`/orders/${id}/refunds`)]);
    let shown = refundList(refunds);
    const result = h("div", { role: "status" });
    const say = () => {
      const done = fresh && shown.items.find((r) => r.refund_id === fresh);
      result.replaceChildren(done ? h("div", { class: "notice ok", testid: "refund-result", "data-status": done.status },
                                      `退款申请已提交：${refundWord(done.status)} ${yuan(done.amount)}`) : "");
    };
    say();
    root.replaceChildren(result, orderHead(order), shown.element, h("h2", { class: "section-title" }, "申请退款"),
                         form(order, tickets.items || [], load));
    if (fresh && scroll) window.scrollTo(0, 0);
    keepLooking(root, () => mine === generation && shown.items.some(refundMoving), async () => {
      const again = refundList(await get(`/orders/${id}/refunds`));
      if (mine !== generation) return;
      if (!again.items.some(refundMoving)) { await load(fresh, false); return; }      // settled: the order's too
      shown.element.replaceWith(again.element);
      shown = again;
      say();
    });
  };
  await load();
  return root;
}

export const page = { title: "申请退款", signIn: true, render };
