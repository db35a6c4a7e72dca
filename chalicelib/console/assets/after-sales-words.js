// 售后 in staff's words: the states of the queue, the types and reasons as customers chose them,
// the steps staff may take in each state, and how a shipment and the report's figures read. Pure
// (no page, no network), so that node holds it to its cases (tests/js/after-sales.test.mjs).

// The queue's tabs, in the order an after-sale moves through them.
export const AFTER_SALE_STATES = [
  ["REQUESTED", "待处理"], ["APPROVED", "已同意"], ["RETURNING", "退回中"], ["RECEIVED", "已收货"],
  ["COMPLETED", "已完成"], ["REJECTED", "已拒绝"], ["CANCELLED", "已取消"],
];
export const STATE_WORDS = Object.fromEntries(AFTER_SALE_STATES);

export const TYPE_WORDS = { return_refund: "退货退款", exchange: "换货" };
export const TYPE_FILTER = [["", "全部类型"], ["return_refund", "退货退款"], ["exchange", "换货"]];

export const REASON_WORDS = {
  damaged: "商品损坏", wrong_item: "发错商品", not_as_described: "与描述不符", size: "尺码/规格不合适",
  no_longer_needed: "不想要了", other: "其他",
};

export const stateWord = (status) => STATE_WORDS[status] || status;
export const typeWord = (type) => TYPE_WORDS[type] || type;
export const reasonWord = (reason) => REASON_WORDS[reason] || reason || "—";

// What staff may do to an after-sale in its state (API.md "After-sales for goods"): approve or
// reject a request; receive the goods once approved (sent back or brought to the shop), or still
// reject them; ship an exchange's replacement once its goods are back. `can(step)` says whether
// this staff member's roles allow the step's call.
export function stepsFor(afterSale, can = () => true) {
  const steps = {
    REQUESTED: ["approve", "reject"],
    APPROVED: ["receive", "reject"],
    RETURNING: ["receive", "reject"],
    RECEIVED: afterSale.type === "exchange" ? ["ship"] : [],
  }[afterSale.status] || [];
  return steps.filter((step) => can(step));
}

// The customer's return: "顺丰 SF123", or brought to the shop; "—" before it is sent.
export function returnWords(shipment) {
  if (!shipment) return "—";
  if (shipment.at_counter === true || shipment.at_counter === "true") return "到店退回";
  return [shipment.carrier, shipment.tracking_no].filter(Boolean).join(" ") || "—";
}

// The replacement: sent by a carrier, or a new pickup code at the shop.
export function replacementWords(shipment) {
  if (!shipment) return "—";
  if (shipment.pickup_code) return `到店自提，提货码 ${shipment.pickup_code}`;
  return [shipment.carrier, shipment.tracking_no].filter(Boolean).join(" ") || "—";
}

// "product / spec × n" for each line, with the names known (sku_id -> {product, spec}), else the SKU.
export function linesWords(lines, names = {}) {
  return (lines || []).map((l) => `${specWords(l.sku_id, names)} × ${l.quantity}`).join("，");
}

export function specWords(skuId, names = {}) {
  const known = names[skuId];
  if (!known) return skuId || "—";
  return [known.product, known.spec].filter(Boolean).join(" / ");
}

// The report's totals as staff read them: a ratio as a percent, hours with one decimal.
export function ratePercent(ratio) {
  if (ratio === null || ratio === undefined || Number.isNaN(Number(ratio))) return "—";
  return `${(Number(ratio) * 100).toFixed(1)}%`;
}

export function hoursWords(hours) {
  if (hours === null || hours === undefined || Number.isNaN(Number(hours))) return "—";
  return `${Number(hours).toFixed(1)} 小时`;
}

// The report's rows for a bar chart by reason: labels in Chinese, and the series to draw.
export function reasonChart(rows) {
  const labels = (rows || []).map((r) => REASON_WORDS[r.key] || r.label || r.key);
  return {
    labels,
    series: [
      { name: "退货", data: (rows || []).map((r) => r.returns || 0) },
      { name: "换货", data: (rows || []).map((r) => r.exchanges || 0) },
    ],
  };
}
