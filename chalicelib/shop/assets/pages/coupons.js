// 优惠券: coupons to claim now (领取) and the customer's own, with their state.
import { get, h, newKey, post, session } from "../api.js";
import { dateTime } from "../dates.js";
import { couponCondition, couponValue } from "../money.js";
import { COUPON_STATUS } from "../words.js";
import { act, empty } from "../view.js";

function couponCard(coupon, side, attributes = {}) {
  return h("article", { class: "card coupon", ...attributes },
    h("div", { class: "value" }, h("strong", {}, couponValue(coupon)), h("span", {}, couponCondition(coupon))),
    h("div", { class: "body" }, h("h3", {}, coupon.name), side));
}

function claimable(coupon, refresh) {
  const message = h("p", { class: "error", role: "alert", hidden: true });
  const key = newKey();                 // one claim meant per tap, whatever the network does
  const button = h("button", { type: "button", testid: "coupon-claim", "data-coupon-id": coupon.coupon_id }, "立即领取");
  button.addEventListener("click", async () => {
    const claimed = await act(button, message, () => post(`/coupons/${encodeURIComponent(coupon.coupon_id)}/claim`, undefined, { key }), "领取中…");
    if (claimed) { button.textContent = "已领取"; button.disabled = true; refresh(); }
  });
  const until = coupon.valid_days ? `领取后 ${coupon.valid_days} 天内有效` : `有效期至 ${dateTime(coupon.valid_until)}`;
  return couponCard(coupon, [h("p", { class: "muted" }, until),
    coupon.remaining !== undefined && coupon.remaining !== null ? h("p", { class: "muted" }, `剩余 ${coupon.remaining} 张`) : null,
    button, message], { testid: "coupon-offer" });
}

function owned(coupon) {
  return couponCard(coupon, [h("p", { class: "muted" }, `${dateTime(coupon.valid_from)} 至 ${dateTime(coupon.valid_until)}`),
    h("p", { class: "status", testid: "coupon-status", "data-status": coupon.status }, COUPON_STATUS[coupon.status] || coupon.status)],
    { testid: "my-coupon", "data-status": coupon.status });
}

async function render() {
  const mineBox = h("div");
  const refresh = async () => {
    if (!session()) return;
    const mine = await get("/me/coupons");
    mineBox.replaceChildren(...(mine.items.length ? mine.items.map(owned) : [empty("还没有优惠券")]));
  };
  const [offers] = await Promise.all([get("/coupons"), refresh()]);
  return h("div", { class: "coupons" },
    h("h2", { class: "section-title" }, "领券中心"),
    offers.items.length ? offers.items.map((c) => claimable(c, refresh)) : empty("暂无可领取的优惠券"),
    h("h2", { class: "section-title" }, "我的优惠券"), mineBox);
}

export const page = { title: "优惠券", signIn: true, render };
