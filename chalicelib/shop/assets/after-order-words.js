// After an order: refunds (退款), 改签 and 售后 in the visitor's words, and the rules API.md states for
// them (what may be refunded and roughly for how much, which sessions a ticket may move to, how many
// units may still go back). Pure (no page, no network), so that node holds it to its cases
// (tests/js/shop-after-order.test.mjs).
import { sessionsByDate } from "./dates.js";

export const ORDER_WORDS = {
  PENDING_PAYMENT: "待支付", PAID: "已支付", SHIPPED: "已发货", COMPLETED: "已完成", CANCELLED: "已取消",
  EXPIRED: "已超时", REFUNDING: "退款中", REFUNDED: "已退款", PARTIALLY_REFUNDED: "部分退款",
};
export const orderWord = (status) => ORDER_WORDS[status] || status;

// ---- refunds ----
export const REFUND_WORDS = {
  REQUESTED: "待审核", APPROVED: "退款中", PROCESSING: "退款中", SUCCEEDED: "已退款", FAILED: "退款处理中",
  REJECTED: "未通过",
};
export const refundWord = (status) => REFUND_WORDS[status] || status;

// What the visitor waits for, in a line under the status.
export function refundHint(refund) {
  switch (refund.status) {
    case "REQUESTED":
      if ((refund.review_reasons || []).includes("goods")) return "商品退款需工作人员审核，请耐心等待";
      return "已到入场时间，需工作人员确认未入场后退款";
    case "APPROVED": case "PROCESSING": return "退款将原路退回微信支付账户";
    case "SUCCEEDED": return "退款已原路退回微信支付账户";
    case "FAILED": return "退款遇到问题，工作人员正在处理，无需重复申请";
    case "REJECTED": return refund.reject_reason ? `原因：${refund.reject_reason}` : "如有疑问请联系客服";
    default: return "";
  }
}

// Refunds still moving: the page looks again a few times.
export const refundMoving = (refund) => ["APPROVED", "PROCESSING"].includes(refund.status);

export const REFUND_REASONS = ["行程有变", "买错场次或票种", "重复购买", "其他原因"];

// A ticket as the refund form offers it: {ok, why, review}. Before admission opens (valid_from) an
// unused ticket is refunded at once; from then until valid_until staff review it; used, expired or
// already refunded tickets cannot be.
export function ticketRefundable(ticket, now = Date.now()) {
  if (ticket.status === "REDEEMED") return { ok: false, why: "已使用" };
  if (ticket.status === "REVOKED") return { ok: false, why: "已退票或已改签" };
  if (ticket.status === "EXPIRED" || now >= Date.parse(ticket.valid_until)) return { ok: false, why: "已过期" };
  if (ticket.status !== "VALID") return { ok: false, why: "不可退" };
  const review = now >= Date.parse(ticket.valid_from);
  return { ok: true, why: review ? "需审核" : "", review };
}

// What `count` units of a line (paid over its units by largest remainder, earlier units taking the
// extra fen) refund: {low, high} fen, equal when exact.
export function unitsRange(line, count) {
  const base = Math.floor(line.paid / line.quantity);
  const extra = line.paid % line.quantity;
  return { low: count * base + Math.max(0, count - (line.quantity - extra)), high: count * base + Math.min(count, extra) };
}

// The order line a ticket was sold on: its SKU's, or (a ticket moved by 改签 has the new session's
// SKU) the line of the same product and ticket type.
export function lineOf(order, ticket) {
  const lines = (order.items || []).filter((l) => l.kind !== "merch");
  return lines.find((l) => l.sku_id === ticket.sku_id)
    || lines.find((l) => l.product_name === ticket.product_name && l.name === ticket.name)
    || lines.find((l) => l.product_name === ticket.product_name) || null;
}

// What refunding these tickets (and, `goods`, every goods line) would pay back: {low, high} fen.
export function refundEstimate(order, tickets, goods = false) {
  const counts = new Map();
  for (const t of tickets) {
    const line = lineOf(order, t);
    if (line) counts.set(line, (counts.get(line) || 0) + 1);
  }
  let low = 0, high = 0;
  for (const [line, count] of counts) {
    const r = unitsRange(line, Math.min(count, line.quantity));
    low += r.low; high += r.high;
  }
  if (goods) for (const line of order.items || []) if (line.kind === "merch") { low += line.paid; high += line.paid; }
  return { low, high };
}

// ---- 改签 ----
export const DEFAULT_CUTOFF_MINUTES = 120;

// The last moment a customer may move the ticket: its session's start less the product's cutoff.
export function rescheduleDeadline(ticket, product) {
  if (!ticket.session) return null;
  const cutoff = product && product.reschedule_cutoff_minutes != null
    ? product.reschedule_cutoff_minutes : DEFAULT_CUTOFF_MINUTES;
  return Date.parse(ticket.session.start) - cutoff * 60000;
}

// Whether the visitor may move this ticket now: {ok, why}.
export function reschedulable(ticket, product, now = Date.now()) {
  if (ticket.kind && ticket.kind !== "ticket") return { ok: false, why: "非门票" };
  if (ticket.status === "REDEEMED") return { ok: false, why: "已使用" };
  if (ticket.status !== "VALID") return { ok: false, why: ticket.status === "REVOKED" ? "已退票或已改签" : "已过期" };
  if (!ticket.session) return { ok: false, why: "不限场次" };
  if (!ticket.reschedules_left) return { ok: false, why: "已改签过" };
  const deadline = rescheduleDeadline(ticket, product);
  if (now >= deadline) return { ok: false, why: "已过改签截止时间" };
  return { ok: true, why: "" };
}

// The sessions a ticket may move to, by date: the product's other sessions at the same price that
// have not started, sold-out ones marked. [{date, skus:[{...sku, soldOut}]}]
export function rescheduleOptions(product, ticket, now = Date.now()) {
  const skus = (product && product.skus) || [];
  const current = skus.find((s) => s.sku_id === ticket.sku_id);
  const price = current ? current.price : null;
  const others = skus.filter((s) => s.session && s.sku_id !== ticket.sku_id && Date.parse(s.session.start) > now
                            && (price === null || s.price === price))
    .map((s) => ({ ...s, soldOut: !(s.available > 0) }));
  return sessionsByDate(others);
}

export const RESCHEDULE_REASON_WORDS = {
  used: "门票已使用", revoked: "门票已退票或已改签", too_late: "已过改签截止时间", limit: "每张门票仅可改签一次",
  other_product: "只能改签到同一商品的场次", other_price: "只能改签到同价格的场次", same_session: "请选择其他场次",
  under_refund: "该门票正在退款审核中",
};

// ---- 售后 ----
export const AFTER_SALE_WORDS = {
  REQUESTED: "待审核", APPROVED: "待寄回", RETURNING: "退回中", RECEIVED: "商家已收货", COMPLETED: "已完成",
  REJECTED: "已拒绝", CANCELLED: "已撤销",
};
export const afterSaleWord = (status) => AFTER_SALE_WORDS[status] || status;
export const TYPE_WORDS = { return_refund: "退货退款", exchange: "换货" };
export const REASONS = [
  ["damaged", "商品损坏"], ["wrong_item", "发错商品"], ["not_as_described", "与描述不符"], ["size", "尺码/规格不合适"],
  ["no_longer_needed", "不想要了"], ["other", "其他"],
];
export const reasonWord = (reason) => (REASONS.find(([r]) => r === reason) || [null, reason])[1];

export function afterSaleHint(a) {
  const exchange = a.type === "exchange";
  switch (a.status) {
    case "REQUESTED": return "等待商家审核，通常1个工作日内处理";
    case "APPROVED": return "商家已同意，请寄回商品并填写快递单号，或带商品到店退回";
    case "RETURNING": return "商品退回中，商家收到后为您处理";
    case "RECEIVED": return exchange ? "商家已收到商品，换货商品即将发出" : "商家已收到商品，退款处理中";
    case "COMPLETED": return exchange ? "换货完成" : "退款已原路退回微信支付账户";
    case "REJECTED": return a.reject_reason ? `原因：${a.reject_reason}` : "如有疑问请联系客服";
    default: return "";
  }
}

// What the customer may do to an after-sale in its state: send the goods back once approved (by post
// or at the counter), withdraw it before the goods are received.
export function customerSteps(a) {
  return { APPROVED: ["send", "counter", "cancel"], REQUESTED: ["cancel"], RETURNING: ["cancel"] }[a.status] || [];
}

const ENDED = ["REJECTED", "CANCELLED"];

// Units of each goods line that may still be asked back: bought, less those under an after-sale that
// was not rejected or withdrawn. [{line, room}]
export function roomByLine(order, afterSales) {
  const taken = new Map();
  for (const a of afterSales || []) {
    if (ENDED.includes(a.status)) continue;
    for (const l of a.lines || []) taken.set(l.sku_id, (taken.get(l.sku_id) || 0) + l.quantity);
  }
  return (order.items || []).filter((l) => l.kind === "merch")
    .map((line) => ({ line, room: Math.max(0, line.quantity - (taken.get(line.sku_id) || 0)) }));
}

// A spec as a visitor reads it: its attributes ("大号 / 蓝色"), else its name.
export function specText(sku) {
  const values = Object.values((sku && sku.attributes) || {});
  return values.length ? values.join(" / ") : (sku && sku.name) || "";
}

// The specs a line may be exchanged for: the product's other SKUs at the same price.
export function exchangeOptions(product, skuId) {
  const skus = (product && product.skus) || [];
  const current = skus.find((s) => s.sku_id === skuId);
  return skus.filter((s) => s.sku_id !== skuId && (!current || s.price === current.price));
}

// ---- errors these pages meet, beyond the shop's common ones (errors.js) ----
export const AFTER_ORDER_ERRORS = {
  NOT_REFUNDABLE: "所选门票已使用、已过期或已在退款中，不能退款",
  USE_AFTER_SALES: "商品已交付，请通过「申请售后」退货退款",
  TOO_MANY_TICKETS: "一次最多退 50 张门票，请分批申请",
  TICKET_NOT_FOUND: "门票不存在",
  AFTER_SALES_CLOSED: "已超过售后期限（交付后 7 天内可申请）",
  AFTER_SALE_NOT_FOUND: "售后申请不存在",
  INVALID_STATE: "当前状态不允许此操作，请刷新后重试",
  NOT_ON_SALE: "该场次已停售，请选择其他场次",
  SOLD_OUT: "该场次已售罄，请选择其他场次",
  DUPLICATE_VISITOR: "该游客在所选场次已有门票",
};

// The words for an API error here, or null to leave it to the shop's common words.
export function afterOrderError(code, details = {}) {
  if (code === "NOT_RESCHEDULABLE") return RESCHEDULE_REASON_WORDS[details.reason] || "该门票不能改签";
  return AFTER_ORDER_ERRORS[code] || null;
}
