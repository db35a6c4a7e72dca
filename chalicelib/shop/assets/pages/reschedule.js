// 改签 (#/reschedule/<order_id>[?ticket=<ticket_id>]): move an unused ticket to another session of the
// same product at the same price, once per ticket, until its session's start less the product's
// cutoff. The visitor picks the ticket, then the session (by date, with what is left), sees the
// rules and the from → to summary, confirms, and gets the new ticket (new code and QR).
import { get, h } from "../api.js";
import { clock, dateTime, dayLabel, sessionText, venueToday } from "../dates.js";
import { yuan } from "../money.js";
import { DEFAULT_CUTOFF_MINUTES, lineOf, reschedulable, rescheduleDeadline, rescheduleOptions }
  from "../after-order-words.js";
import { errorLine, postOnce, orderHead, tap } from "../after-order-view.js";

function cutoffWords(product) {
  const minutes = product && product.reschedule_cutoff_minutes != null
    ? product.reschedule_cutoff_minutes : DEFAULT_CUTOFF_MINUTES;
  if (minutes % 60 === 0) return `${minutes / 60} 小时`;
  return `${minutes} 分钟`;
}

function rules(ticket, product) {
  const deadline = rescheduleDeadline(ticket, product);
  return h("section", { class: "card rules", testid: "reschedule-rules" },
    h("h2", {}, "改签规则"),
    h("ul", {},
      h("li", {}, "只能改签到同一商品、同价格的其他场次，", h("strong", {}, `差价 ${yuan(0)}`), "，无需补款或退款"),
      h("li", {}, "每张门票可改签 1 次"),
      h("li", {}, `原场次开始前 ${cutoffWords(product)}截止改签`,
        deadline ? `（本票截止 ${dateTime(new Date(deadline).toISOString())}）` : ""),
      h("li", {}, "改签后原二维码立即失效，请使用新门票入场")));
}

function ticketPicker(tickets, products, order, chosen, onPick) {
  return h("fieldset", { class: "card" }, h("legend", {}, "选择门票"),
    h("div", { class: "choices" }, tickets.map((t) => {
      const product = products.get(t.ticket_id);
      const can = reschedulable(t, product);
      return h("label", { class: "choice" + (can.ok ? "" : " disabled"), testid: "reschedule-ticket",
                          "data-ticket-id": t.ticket_id },
        h("input", { type: "radio", name: "ticket", value: t.ticket_id, disabled: !can.ok,
                     checked: t.ticket_id === chosen, onchange: () => onPick(t.ticket_id) }),
        h("span", { class: "grow" }, h("strong", {}, t.name),
          h("span", { class: "why" + (can.ok ? " can" : "") }, can.why || "可改签"),
          h("span", { class: "muted small block" }, sessionText(t.session)),
          t.visitor && t.visitor.name ? h("span", { class: "muted small block" }, `游客 ${t.visitor.name}`) : null));
    })));
}

function sessionPicker(ticket, product, onPick) {
  const days = rescheduleOptions(product, ticket);
  if (!days.length) return h("p", { class: "notice", testid: "no-sessions" }, "暂无可改签的同价场次");
  const today = venueToday();
  return h("fieldset", { class: "card" }, h("legend", {}, "选择新场次"),
    days.map(({ date, skus }) => h("div", { class: "day" }, h("h3", {}, dayLabel(date, today)),
      h("div", { class: "choices" }, skus.map((sku) => h("label", {
        class: "choice" + (sku.soldOut ? " disabled" : ""), testid: "reschedule-session", "data-sku-id": sku.sku_id },
        h("input", { type: "radio", name: "session", value: sku.sku_id, disabled: sku.soldOut,
                     onchange: () => onPick(sku) }),
        h("span", { class: "grow" }, h("strong", {}, `${clock(sku.session.start)}–${clock(sku.session.end)}`),
          h("span", { class: "muted small block" }, sku.name)),
        h("span", { class: "side " + (sku.soldOut ? "muted" : "ok") }, sku.soldOut ? "售罄" : `余 ${sku.available}`)))))));
}

function result(order, fresh) {
  return h("section", { class: "card result", role: "status", testid: "reschedule-result", "data-sku-id": fresh.sku_id },
    h("h2", { class: "ok" }, "改签成功"),
    h("p", {}, "新场次：", h("strong", { testid: "new-session" }, sessionText(fresh.session))),
    h("p", { class: "muted small" }, `${fresh.product_name} · ${fresh.name}`),
    h("p", { class: "muted small" }, "新票号 ", h("span", { class: "mono" }, fresh.code)),
    h("p", { class: "small" }, "原门票二维码已失效，请使用新门票入场。"),
    h("a", { class: "button block", href: `#/tickets/${encodeURIComponent(order.order_id)}` }, "查看新门票"));
}

async function render([orderId], query) {
  const id = encodeURIComponent(orderId || "");
  const order = await get(`/orders/${id}`);
  const tickets = order.status === "PENDING_PAYMENT" ? [] :
    ((await get(`/orders/${id}/tickets`)).items || []).filter((t) => t.kind !== "pickup" && t.session);
  const ids = [...new Set(tickets.map((t) => (lineOf(order, t) || {}).product_id).filter(Boolean))];
  const found = new Map(await Promise.all(ids.map(async (pid) => {
    try { return [pid, await get(`/catalog/products/${encodeURIComponent(pid)}`)]; } catch (e) { return [pid, null]; }
  })));
  const products = new Map(tickets.map((t) => [t.ticket_id, found.get((lineOf(order, t) || {}).product_id)]));
  const root = h("div", { class: "after-order" });
  if (!tickets.length) {
    root.append(orderHead(order), h("p", { class: "notice" }, "该订单没有可改签的场次门票"));
    return root;
  }
  const usable = tickets.filter((t) => reschedulable(t, products.get(t.ticket_id)).ok);
  let chosen = (usable.find((t) => t.ticket_id === query.get("ticket")) || usable[0] || {}).ticket_id;
  let target = null;
  const message = errorLine();
  const summary = h("div", { class: "summary", testid: "reschedule-summary" });
  const submit = h("button", { type: "button", class: "block", testid: "reschedule-submit", disabled: true },
                   "确认改签");
  const body = h("div");
  const showSummary = () => {
    const ticket = tickets.find((t) => t.ticket_id === chosen);
    summary.replaceChildren(...(ticket && target ? [
      h("div", { class: "row" }, h("span", { class: "muted" }, "原场次"), h("span", {}, sessionText(ticket.session))),
      h("div", { class: "row" }, h("span", { class: "muted" }, "新场次"), h("strong", {}, sessionText(target.session))),
      h("div", { class: "row" }, h("span", { class: "muted" }, "差价"), h("span", {}, yuan(0)))] : [
      h("p", { class: "muted small" }, "请选择新场次")]));
    submit.disabled = !(ticket && target);
  };
  const draw = () => {
    const ticket = tickets.find((t) => t.ticket_id === chosen);
    target = null;
    body.replaceChildren(
      ticketPicker(tickets, products, order, chosen, (tid) => { chosen = tid; draw(); }),
      ticket ? rules(ticket, products.get(chosen)) : null,
      !ticket ? h("p", { class: "notice" }, "这些门票都不能改签（已使用、已改签过或已过改签截止时间）")
        : !products.get(chosen) ? h("p", { class: "notice" }, "该商品已下架，暂不能改签")
        : sessionPicker(ticket, products.get(chosen), (sku) => { target = sku; showSummary(); }));
    showSummary();
  };
  submit.addEventListener("click", async () => {
    const path = `/orders/${id}/tickets/${encodeURIComponent(chosen)}/reschedule`;
    const request = { sku_id: target.sku_id };
    const fresh = await tap(submit, message, () => postOnce(path, request), "正在改签…");
    if (fresh) {
      root.replaceChildren(result(order, fresh));
      window.scrollTo(0, 0);
    }
  });
  draw();
  root.append(orderHead(order), body, h("div", { class: "card" }, summary, message, submit));
  return root;
}

export const page = { title: "改签", signIn: true, render };
