// 新建优惠券: the form of the coupons page. Staff type yuan, 折 and venue times; offers.js turns
// them into the API's body (or says in Chinese what is missing) before anything is sent.
import { h, post } from "../api.js";
import { couponBody, venueWallTime } from "../offers.js";
import { venueDate } from "../venue-time.js";
import { action, checkedKinds, field, kindBoxes } from "../widgets.js";

export function couponForm(created) {
  const input = (testid, attributes = {}) => h("input", { testid, ...attributes });
  const name = input("coupon-name", { maxlength: 60, placeholder: "如 开馆纪念券", style: "width:16em" });
  const kind = h("select", { testid: "coupon-kind" }, h("option", { value: "cash" }, "满减券（减金额）"),
                 h("option", { value: "percent" }, "折扣券（打折）"));
  const money = (testid, placeholder) => input(testid, { inputmode: "decimal", placeholder, style: "width:9em" });
  const threshold = money("coupon-threshold", "空为无门槛");
  const amount = money("coupon-amount", "如 20");
  const discount = input("coupon-discount", { inputmode: "decimal", placeholder: "如 8.5", style: "width:7em" });
  const maxDiscount = money("coupon-max-discount", "空为不封顶");
  const total = input("coupon-total", { inputmode: "numeric", placeholder: "空为不限量", style: "width:9em" });
  const perUser = input("coupon-per-user", { inputmode: "numeric", value: "1", style: "width:6em" });
  const kinds = kindBoxes();
  const claimFrom = input("coupon-claim-from", { type: "datetime-local", value: venueWallTime() });
  const claimUntil = input("coupon-claim-until", { type: "datetime-local", value: `${venueDate(30)}T23:59` });
  const validity = h("select", { testid: "coupon-validity" }, h("option", { value: "days" }, "领取后有效天数"),
                     h("option", { value: "dates" }, "固定日期"));
  const validDays = input("coupon-valid-days", { inputmode: "numeric", value: "30", style: "width:6em" });
  const validFrom = input("coupon-valid-from", { type: "date", value: venueDate() });
  const validUntil = input("coupon-valid-until", { type: "date", value: venueDate(30) });
  const returnable = h("input", { type: "checkbox", checked: true, testid: "coupon-returnable" });

  const amountField = field("减免金额（元）", amount);
  const percentFields = [field("折扣（折）", discount), field("最高优惠（元）", maxDiscount)];
  const daysField = field("有效天数", validDays);
  const datesField = h("span", { class: "row" }, field("有效期自", validFrom), field("至（含当日）", validUntil));
  const show = () => {
    amountField.hidden = kind.value !== "cash";
    for (const f of percentFields) f.hidden = kind.value === "cash";
    daysField.hidden = validity.value !== "days";
    datesField.hidden = validity.value === "days";
  };
  kind.addEventListener("change", show);
  validity.addEventListener("change", show);
  show();

  return h("div", { class: "card section", testid: "coupon-form" }, h("h2", {}, "新建优惠券"),
    h("div", { class: "row fields" }, field("券名称", name), field("类型", kind), field("使用门槛（元）", threshold),
      amountField, percentFields),
    h("div", { class: "row fields" }, field("发放总量（张）", total), field("每人限领（张）", perUser),
      h("span", { class: "field" }, h("span", {}, "适用商品"), h("span", { class: "row tight" }, kinds))),
    h("div", { class: "row fields" }, field("领取开始（场馆时间）", claimFrom), field("领取截止", claimUntil),
      field("有效期", validity), daysField, datesField),
    h("div", { class: "row" }, h("label", { class: "check" }, returnable, "订单全额退款后退回给顾客（仍在有效期内）")),
    action("创建优惠券", async () => {
      const coupon = await post("/admin/coupons", couponBody({
        name: name.value, kind: kind.value, threshold: threshold.value, amount: amount.value, discount: discount.value,
        maxDiscount: maxDiscount.value, total: total.value, perUser: perUser.value, kinds: checkedKinds(kinds),
        claimFrom: claimFrom.value, claimUntil: claimUntil.value, validity: validity.value, validDays: validDays.value,
        validFrom: validFrom.value, validUntil: validUntil.value, returnable: returnable.checked }));
      await created(coupon);
      return `已创建 ${coupon.name}（${coupon.coupon_id}）`;
    }));
}
