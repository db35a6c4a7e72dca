// 订单: search orders by number, phone or product; one order's lines, history and shipping; its
// tickets, moved to another session (改签) or to another visitor for a customer on the phone.
import { get, h, patch, post, yuan } from "../api.js";
import { MESSAGE_STATES, eventWord } from "../message-words.js";
import { PROMOTION_KINDS } from "../offers.js";
import { localTime, sessionTime } from "../venue-time.js";
import { STATUS_WORDS, action, cell, enc, hashQuery, idCell, paged, table, tag } from "../widgets.js";

const CANCEL_WORDS = { payment_amount_mismatch: "支付金额与订单不符，款项已自动原路退回",
                       session_cancelled: "场次已取消，订单已自动关闭" };
const TICKET_WORDS = { VALID: "未使用", REDEEMED: "已核销", REVOKED: "已作废", EXPIRED: "已过期" };
const RESEND_WORDS = { NO_SUBSCRIPTION: "顾客没有可用的订阅次数，无法重发", INVALID_STATE: "该订单尚未出票，无法重发门票" };
const LIVE = ["PAID", "PARTIALLY_REFUNDED", "COMPLETED", "REFUNDING", "REFUNDED"];

const ORDER_STATES = ["", "PENDING_PAYMENT", "PAID", "SHIPPED", "COMPLETED", "REFUNDING", "REFUNDED",
                      "PARTIALLY_REFUNDED", "CANCELLED", "EXPIRED"];

async function orders(body, { may }) {
  const q = h("input", { placeholder: "订单号 / 手机号 / 商品名", value: hashQuery().get("q") || "" });
  const state = h("select", {}, ORDER_STATES.map((s) => h("option", { value: s, selected: s === (hashQuery().get("status") || "") }, STATUS_WORDS[s] || "全部状态")));
  const list = h("div", {});
  const detail = h("div", {});
  const search = async () => {
    list.replaceChildren();
    const rows = h("tbody", {});
    list.append(h("table", {}, h("thead", {}, h("tr", {}, ["订单号", "状态", "金额", "商品", "下单时间"].map((t, i) => h("th", { class: i === 2 ? "num" : "" }, t)))), rows));
    const params = new URLSearchParams();
    if (q.value.trim()) params.set("q", q.value.trim());
    if (state.value) params.set("status", state.value);
    await paged(list, "/admin/orders?" + params, (items) => {
      for (const o of items) rows.append(h("tr", {}, h("td", { class: "id" }, h("a", { href: "#/orders", onclick: (e) => { e.preventDefault(); show(o.order_id); } }, o.order_id)),
        h("td", {}, tag(o.status)), cell(yuan(o.total), 1), cell(o.items.map((i) => `${i.product_name}×${i.quantity}`).join("，")),
        cell(localTime(o.created_at))));
    });
  };
  const show = async (orderId) => {
    const o = await get(`/orders/${enc(orderId)}`);
    const carrier = h("input", { placeholder: "快递公司" });
    const tracking = h("input", { placeholder: "运单号" });
    detail.replaceChildren(h("div", { class: "card section" }, h("h2", {}, `订单 ${o.order_id}`),
      h("p", {}, tag(o.status), " 实付 ", yuan(o.total), " · 联系人 ", o.contact ? `${o.contact.name} ${o.contact.phone}` : "—",
        o.user_id ? ` · 用户 ID ${o.user_id}` : ""),
      o.cancel_reason ? h("p", { class: "notice" }, CANCEL_WORDS[o.cancel_reason] || o.cancel_reason) : null,
      attempt(o),
      table([["商品"], ["规格"], ["单价", 1], ["数量", 1], ["原价小计", 1], ["优惠", 1], ["实付", 1]], o.items.map((i) => h("tr", { testid: "order-line" },
        cell(i.product_name), cell(i.name), cell(yuan(i.price ?? i.unit_price), 1), cell(i.quantity, 1), cell(yuan(i.subtotal), 1),
        cell(i.discount ? "-" + yuan(i.discount) : "—", 1), h("td", { class: "num", testid: "line-paid" }, yuan(i.paid ?? i.subtotal))))),
      price(o),
      o.address ? h("p", {}, `收货：${o.address.recipient} ${o.address.phone} ${o.address.region} ${o.address.detail}`) : null,
      o.shipment ? h("p", {}, `已发货：${o.shipment.carrier} ${o.shipment.tracking_no}`) : null,
      h("h2", {}, "订单记录"),
      table([["状态"], ["时间"], ["操作人"]], o.history.map((e) => h("tr", {}, cell(STATUS_WORDS[e.status] || e.status), cell(localTime(e.at)), cell(e.by || "—")))),
      LIVE.includes(o.status) && o.items.some((i) => i.kind !== "merch" && i.session) ? await tickets(o, may, () => show(o.order_id)) : null,
      may("GET /admin/orders/{order_id}/messages") ? await messages(o, may) : null,
      o.status === "PAID" && o.address && may("POST /admin/orders/{order_id}/ship")
        ? h("div", { class: "row" }, carrier, tracking, action("发货", async () => {
            await post(`/admin/orders/${o.order_id}/ship`, { carrier: carrier.value.trim(), tracking_no: tracking.value.trim() });
            await show(o.order_id);
          })) : null));
    detail.scrollIntoView({ behavior: "smooth" });
  };
  body.append(h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); search(); } }, q, state,
                h("button", { type: "submit" }, "搜索")), list, detail);
  await search();
}

// 原价合计, each promotion that took something off (会员价, 满减, 优惠券), 实付: the order's price as the
// customer was told it, lines' paid shares summing to the total.
function price(o) {
  const line = (label, amount, testid, extra = {}) => h("tr", { testid, ...extra }, h("th", {}, label), h("td", { class: "num" }, amount));
  return h("table", { class: "price-lines", testid: "order-price" }, h("tbody", {},
    line("原价合计", yuan(o.subtotal ?? o.total), "order-subtotal"),
    (o.promotions || []).map((p) => line(`${PROMOTION_KINDS[p.kind] || p.kind}：${p.name}`, "-" + yuan(p.amount), "order-promotion",
                                         { "data-kind": p.kind })),
    line("优惠合计", o.discount ? "-" + yuan(o.discount) : yuan(0), "order-discount"),
    line("实付", yuan(o.total), "order-total", { class: "strong" })));
}

// The order's payment attempt at WeChat (商户订单号) and how often it may still be changed unpaid.
function attempt(o) {
  const parts = [];
  if (o.out_trade_no) parts.push(`微信支付商户订单号 ${o.out_trade_no}`);
  if (o.status === "PENDING_PAYMENT") parts.push(`顾客还可改单 ${o.changes_left ?? 0} 次`);
  return parts.length ? h("p", { class: "muted", testid: "order-attempt" }, parts.join(" · ")) : null;
}

// Sessions a ticket may move to: the same product's, at its price, still ahead and not cancelled.
function sessionsFor(product, ticket) {
  const own = product.skus.find((s) => s.sku_id === ticket.sku_id);
  return product.skus.filter((s) => s.sku_id !== ticket.sku_id && s.session && !s.cancelled && own
                              && s.price === own.price && Date.parse(s.session.start) > Date.now());
}

async function tickets(o, may, reload) {
  const list = (await get(`/orders/${enc(o.order_id)}/tickets`)).items;
  const products = {};
  for (const t of list) {
    const productId = t.sku_id.split("-S")[0];
    if (!(productId in products)) products[productId] = await get(`/admin/products/${enc(productId)}`).catch(() => null);
  }
  const moves = may("POST /orders/{order_id}/tickets/{ticket_id}/reschedule");
  const renames = may("PATCH /orders/{order_id}/tickets/{ticket_id}");
  const rows = list.map((t) => {
    const product = products[t.sku_id.split("-S")[0]];
    const targets = t.status === "VALID" && product ? sessionsFor(product, t) : [];
    const target = h("select", { testid: "reschedule-target" }, targets.map((s) =>
      h("option", { value: s.sku_id }, `${sessionTime(s.session)} · ${s.name} · 余 ${s.available}`)));
    const name = h("input", { placeholder: "游客姓名", style: "width:6em", testid: "visitor-name" });
    const idNumber = h("input", { placeholder: "证件号", style: "width:12em", testid: "visitor-id" });
    const visitor = t.visitor ? `${t.visitor.name} ${t.visitor.id_number}` : "—";
    return h("tr", { testid: "order-ticket" }, idCell(t.code), cell(sessionTime(t.session)),
      cell(visitor), cell(TICKET_WORDS[t.status] || t.status),
      h("td", {}, t.status === "VALID" ? h("div", {},
        moves && targets.length ? h("div", { class: "row" }, target, action("改签", async () => {
          await post(`/orders/${enc(o.order_id)}/tickets/${enc(t.ticket_id)}/reschedule`, { sku_id: target.value });
          return "已改签，旧票已作废";
        }, { then: reload })) : null,
        renames && t.visitor ? h("div", { class: "row" }, name, idNumber, action("更换游客", async () => {
          await patch(`/orders/${enc(o.order_id)}/tickets/${enc(t.ticket_id)}`,
                      { visitor: { name: name.value.trim(), id_number: idNumber.value.trim() } });
          return "已更换";
        }, { secondary: true, then: reload })) : null) : null));
  });
  return h("div", { testid: "order-tickets" }, h("h2", {}, "门票"),
           table([["票号"], ["场次"], ["游客"], ["状态"], ["改签 / 更换游客"]], rows, "暂无门票"));
}

// 消息通知: the WeChat subscribe messages of the order (出票通知, 退款结果, …), how each went, and for a
// ticket order the tickets message sent again (重发门票) while the customer has a subscription left.
async function messages(o, may) {
  const box = h("div", { testid: "order-messages" });
  const load = async () => {
    const items = (await get(`/admin/orders/${enc(o.order_id)}/messages`)).items
      .slice().sort((a, b) => String(a.at).localeCompare(String(b.at)));
    // Each event goes out once an order; a later tickets message is one staff sent again (重发).
    const seen = new Set();
    const word = (m) => {
      const name = eventWord(m.event);
      if (!seen.has(m.event)) { seen.add(m.event); return name; }
      return m.event === "ticket_issued" ? `${name}（重发）` : name;
    };
    box.replaceChildren(table([["通知"], ["状态"], ["时间"]], items.map((m) => h("tr", { testid: "order-message", "data-status": m.status },
      cell(word(m)),
      h("td", {}, h("span", { class: "tag msg-" + m.status, title: m.status }, MESSAGE_STATES[m.status] || m.status),
        m.status === "FAILED" && m.error ? h("span", { class: "error" }, ` ${m.error}`) : null),
      cell(localTime(m.at)))), "暂无消息通知"));
    return items.length;
  };
  // The queue sends a resend a moment later: the list is read again until the new row is there.
  const follow = async (before) => {
    for (let i = 0; i < 15; i++) {
      await new Promise((done) => setTimeout(done, 2000));
      if (!box.isConnected || await load() > before) return;
    }
  };
  await load();
  const ticketOrder = LIVE.includes(o.status) && o.items.some((i) => i.kind !== "merch" && i.session);
  const resend = ticketOrder && may("POST /admin/orders/{order_id}/resend-tickets") ? action("重发门票", async () => {
    const before = box.querySelectorAll("[data-testid=order-message]").length;
    try {
      await post(`/admin/orders/${enc(o.order_id)}/resend-tickets`);
    } catch (error) {
      if (error && RESEND_WORDS[error.code]) throw new Error(RESEND_WORDS[error.code]);
      throw error;
    }
    follow(before);
    return "已提交重发，发送结果见上方列表";
  }, { secondary: true }) : null;
  return h("div", { class: "section", testid: "order-notifications" }, h("h2", {}, "消息通知"), box,
           resend ? h("div", { class: "row", testid: "resend-tickets" }, resend) : null);
}

export const page = { route: "orders", title: "订单", needs: "GET /admin/orders", render: orders };
