// Money as a visitor reads it: the API counts integer fen, the shop shows yuan. Pure (no page, no
// network), so that node holds it to its cases (tests/js/shop-money.test.mjs).

// ¥1,234.00 from fen.
export function yuan(fen) {
  if (fen === null || fen === undefined) return "—";
  const sign = fen < 0 ? "-" : "";
  const abs = Math.abs(fen);
  const whole = Math.floor(abs / 100).toLocaleString("en-US");
  return `${sign}¥${whole}.${String(abs % 100).padStart(2, "0")}`;
}

// ¥100 or ¥99.50: a coupon's figure as a price tag says it.
export function shortYuan(fen) {
  return fen % 100 === 0 ? yuan(fen).slice(0, -3) : yuan(fen);
}

// What a coupon is worth, in the words of a coupon: "¥20" or "8.5折" (with its cap).
export function couponValue(coupon) {
  if (coupon.kind === "percent") {
    const zhe = `${(100 - coupon.percent_off) / 10}折`;
    return coupon.max_discount ? `${zhe}（最多减${shortYuan(coupon.max_discount)}）` : zhe;
  }
  return shortYuan(coupon.amount);
}

// When a coupon applies: "满¥100可用" or "无门槛".
export function couponCondition(coupon) {
  return coupon.threshold ? `满${shortYuan(coupon.threshold)}可用` : "无门槛";
}

// The cheapest and the dearest price of a product's SKUs: "¥60.00" or "¥60.00 起".
export function priceFrom(skus) {
  const prices = (skus || []).map((s) => s.price);
  if (!prices.length) return "—";
  const low = Math.min(...prices);
  return low === Math.max(...prices) ? yuan(low) : `${yuan(low)} 起`;
}
