// 场次: the coming sessions of every ticket product, one venue day at a time; the venue cancels one
// (typhoon, closure) with a reason the customers are shown, and follows its cancellation: unpaid
// orders closed, every unused ticket refunded in full through WeChat, step by step.
import { get, h, post } from "../api.js";
import { sessionTime, venueDate } from "../venue-time.js";
import { action, cell, enc, table } from "../widgets.js";

const STATE_WORDS = { RUNNING: "处理中", DONE: "已完成" };
const PRODUCTS_READ = 100;

async function ticketSessions() {
  const page = await get(`/admin/inventory?limit=${PRODUCTS_READ}`);
  const productIds = [...new Set(page.items.map((i) => i.product_id))];
  const products = await Promise.all(productIds.map((id) => get(`/admin/products/${enc(id)}`).catch(() => null)));
  const sessions = [];
  for (const p of products) {
    if (!p || p.kind !== "ticket") continue;
    for (const s of p.skus) {
      if (s.session && Date.parse(s.session.end) > Date.now() - 86400000) sessions.push({ product: p, sku: s });
    }
  }
  return sessions.sort((a, b) => Date.parse(a.sku.session.start) - Date.parse(b.sku.session.start));
}

const venueDay = (iso) => venueDate(0, undefined, Date.parse(iso));

// A cancellation's progress: refunds asked of WeChat against those it confirmed (or failed).
function progress(c) {
  const done = c.refunds_succeeded + c.refunds_failed;
  return h("div", { class: "card section", testid: "cancellation-progress" },
    h("p", {}, h("strong", {}, STATE_WORDS[c.status] || c.status), ` · 原因：${c.reason}`),
    h("progress", { max: Math.max(c.refunds_requested, 1), value: c.status === "DONE" && !c.refunds_requested ? 1 : done,
                    style: "width:100%;height:1.2em" }),
    h("p", { testid: "cancellation-counts" },
      `退款：已发起 ${c.refunds_requested} 笔，已到账 ${c.refunds_succeeded} 笔`,
      c.refunds_failed ? h("span", { class: "error" }, `，失败 ${c.refunds_failed} 笔（请到「退款」页重新退款）`) : "",
      c.orders_cancelled !== undefined ? `；未付款订单已关闭 ${c.orders_cancelled} 笔` : ""));
}

async function sessionsPage(body, { may }) {
  const canCancel = may("POST /admin/sessions/{sku_id}/cancel");
  const days = h("div", { class: "row" });
  const list = h("div", {});
  const panel = h("div", {});
  let timer = null;
  let shownDay = null;
  let sessions = await ticketSessions();
  const follow = async (skuId) => {
    clearTimeout(timer);
    const c = await get(`/admin/sessions/${enc(skuId)}/cancellation`);
    panel.replaceChildren(h("h2", {}, "取消进度"), progress(c));
    panel.scrollIntoView({ behavior: "smooth", block: "nearest" });
    if (c.status === "RUNNING" || c.refunds_succeeded + c.refunds_failed < c.refunds_requested) {
      timer = setTimeout(() => document.body.contains(panel) && follow(skuId), 2000);
    }
  };
  const row = ({ product, sku }) => {
    const reason = h("input", { placeholder: "取消原因（顾客可见）", style: "width:14em", testid: "cancel-reason" });
    const confirmBox = h("div", { class: "row", hidden: true }, reason, action("确认取消", async () => {
      const why = reason.value.trim();
      if (!why) throw new Error("请填写取消原因，顾客会看到它");
      await post(`/admin/sessions/${enc(sku.sku_id)}/cancel`, { reason: why });
      sessions = await ticketSessions();
      show(shownDay);
      await follow(sku.sku_id);
      return "已取消，正在退款";
    }, { danger: true }));
    return h("tr", { testid: "session-row", class: sku.cancelled ? "low" : "" },
      h("td", { class: "nowrap" }, sessionTime(sku.session)), cell(product.name), cell(sku.name),
      cell(sku.cancelled ? "—" : sku.available, 1), cell(sku.sold ?? "—", 1),
      h("td", { class: "nowrap", testid: "session-state" }, sku.cancelled ? `已取消：${sku.cancel_reason || ""}` : "售卖中"),
      h("td", {}, sku.cancelled
        ? h("button", { class: "secondary", type: "button", onclick: () => follow(sku.sku_id) }, "查看进度")
        : canCancel ? h("div", {}, h("button", { class: "secondary", type: "button", testid: "cancel-session",
                                                  onclick: (e) => { e.target.hidden = true; confirmBox.hidden = false; reason.focus(); } },
                                    "取消场次…"), confirmBox) : null));
  };
  const show = (day) => {
    shownDay = day;
    const all = [...new Set(sessions.map((s) => venueDay(s.sku.session.start)))];
    days.replaceChildren(...all.map((d) => h("a", { href: "#/sessions", class: "tag " + (d === day ? "PAID" : ""), testid: "session-day",
      onclick: (e) => { e.preventDefault(); show(d); } }, d.slice(5))));
    list.replaceChildren(table([["场次"], ["商品"], ["规格"], ["可售", 1], ["已售", 1], ["状态"], [""]],
      sessions.filter((s) => venueDay(s.sku.session.start) === day).map(row), "这一天没有场次"));
  };
  body.append(h("p", { class: "muted" }, "取消场次后立即停止售票，未付款订单自动关闭，已付款未使用的门票全额原路退款，无需审核。"),
              days, list, panel);
  show(sessions.length ? venueDay(sessions[0].sku.session.start) : null);
}

export const page = { route: "sessions", title: "场次", needs: "GET /admin/sessions/{sku_id}/cancellation",
                      render: sessionsPage };
