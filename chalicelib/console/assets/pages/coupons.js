// 优惠券: every coupon with where it stands and how it is used (issued against used, drawn), one
// coupon's card (stop it, raise its total, goodwill grants to named customers), and a new coupon
// for those the API lets create one.
import { get, h, patch, post, yuan } from "../api.js";
import { barChart } from "../charts.js";
import { percent } from "../money.js";
import { REFUSAL_WORDS, couponState, offerText, scopeText, shortTime, validityText } from "../offers.js";
import { localTime } from "../venue-time.js";
import { action, cell, enc, field, table } from "../widgets.js";
import { couponForm } from "./coupon-form.js";

const CHARTED = 12;                  // the newest dozen: bars stay readable

const stateTag = (c) => {
  const [css, words] = couponState(c);
  return h("span", { class: "tag " + css, testid: "coupon-status" }, words);
};

async function coupons(body, { may }) {
  const chart = h("div", { class: "chart", testid: "coupon-chart" });
  const chartCard = h("div", { class: "card section" }, h("h2", {}, "发放与使用（最近 12 张券）"), chart);
  const list = h("div", { class: "section", testid: "coupon-list" });
  const detail = h("div", {});
  const creating = may("POST /admin/coupons");
  const form = creating ? couponForm(async (coupon) => { await load(); open(coupon); }) : null;
  if (form) form.hidden = true;

  async function load() {
    const { items } = await get("/admin/coupons");
    chartCard.hidden = !items.length;
    const rows = items.map((c) => h("tr", { testid: "coupon-row", "data-coupon-id": c.coupon_id },
      h("td", {}, h("div", {}, c.name), h("div", { class: "hint small" }, c.coupon_id)), h("td", {}, stateTag(c)),
      cell(offerText(c)), cell(c.threshold ? yuan(c.threshold) : "无门槛", 1), cell(c.total ?? "不限", 1),
      cell(c.remaining ?? "不限", 1), cell(c.issued, 1), cell(c.used, 1), cell(c.locked, 1), cell(c.expired, 1),
      h("td", { class: "num", testid: "coupon-rate" }, percent(c.redemption_rate, c.issued)),
      h("td", { class: "actions" }, h("button", { class: "secondary", type: "button", onclick: () => open(c) }, "管理"))));
    list.replaceChildren(table([["优惠券"], ["状态"], ["优惠"], ["门槛", 1], ["总量", 1], ["剩余", 1], ["已发放", 1],
      ["已使用", 1], ["锁定中", 1], ["已过期", 1], ["核销率", 1], [""]], rows, "还没有优惠券"));
    if (items.length) {
      const shown = items.slice(0, CHARTED);
      const horizontal = shown.length > 6;
      const drawn = barChart(chart, shown.map((c) => c.name), [{ name: "已发放", data: shown.map((c) => c.issued) },
                                                               { name: "已使用", data: shown.map((c) => c.used) }], horizontal);
      if (drawn) drawn.setOption({ [horizontal ? "xAxis" : "yAxis"]: { minInterval: 1 } });     // whole coupons
    }
  }

  function open(c) {
    detail.replaceChildren(card(c, { changed: async (after) => { await load(); open(after); }, reload: load }, may));
    detail.scrollIntoView({ behavior: "smooth" });
  }

  body.append(h("div", { class: "row" }, creating ? h("button", { type: "button", testid: "new-coupon",
    onclick: () => { form.hidden = !form.hidden; } }, "＋ 新建优惠券") : null,
    h("span", { class: "hint" }, "核销率 = 已使用 / 已发放；锁定中为待支付订单占用的券。")),
  form || "", chartCard, list, detail);
  await load();
}

// One coupon: what it is, and what the API lets this role do with it.
function card(c, { changed, reload }, may) {
  const facts = [["优惠", offerText(c)], ["适用", scopeText(c.scope)], ["每人限领", `${c.per_user_limit} 张`],
    ["领取时间", `${shortTime(c.claim_from)} 至 ${shortTime(c.claim_until)}`], ["有效期", validityText(c)],
    ["全额退款后", c.returnable ? "退回给顾客" : "不退回"], ["创建", `${c.created_by || "—"} · ${localTime(c.created_at)}`]];
  const editable = may("PATCH /admin/coupons/{coupon_id}");
  const more = h("input", { inputmode: "numeric", placeholder: "追加张数", style: "width:8em", testid: "coupon-add" });
  return h("div", { class: "card section", testid: "coupon-detail" },
    h("h2", { class: "row" }, `优惠券 ${c.name}`, stateTag(c)),
    h("dl", { class: "facts", testid: "coupon-facts" }, facts.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    editable ? h("div", { class: "row" },
      c.status === "stopped" ? h("span", { class: "hint" }, "已停止发放：已领取的券仍可使用。")
        : action("停止发放", async () => {
          if (!confirm(`停止发放「${c.name}」？已领取的券仍可使用。`)) return "已取消";
          await changed(await patch(`/admin/coupons/${enc(c.coupon_id)}`, { status: "stopped" }));
          return "已停止";
        }, { danger: true }),
      c.total === null || c.total === undefined ? h("span", { class: "hint" }, "不限量") : [
        h("span", {}, `总量 ${c.total} 张`), more, action("追加总量", async () => {
          const n = Number(more.value.trim());
          if (!Number.isInteger(n) || n < 1) throw new Error("请填写要追加的张数（正整数）：总量只能增加");
          await changed(await patch(`/admin/coupons/${enc(c.coupon_id)}`, { total: c.total + n }));
          return `总量已增至 ${c.total + n} 张`;
        }, { secondary: true })]) : null,
    may("POST /admin/coupons/{coupon_id}/grants") ? grants(c, reload) : null);
}

// Goodwill coupons (补发) for named customers: who got one, and why the others did not.
function grants(c, reload) {
  const ids = h("textarea", { class: "ids", testid: "grant-users", placeholder: "每行一个，见订单详情中的用户 ID", rows: 3 });
  const reason = h("input", { testid: "grant-reason", placeholder: "发放原因，如 排队太久补偿", maxlength: 200, style: "width:20em" });
  const outcome = h("div", { testid: "grant-outcome" });
  return h("div", {}, h("h2", {}, "补发给指定顾客"), h("div", { class: "row fields" }, field("用户 ID", ids), field("原因", reason)),
    action("补发", async () => {
      const userIds = [...new Set(ids.value.split(/[\s,，;；]+/).filter(Boolean))];
      if (!userIds.length) throw new Error("请填写至少一个用户 ID");
      if (!reason.value.trim()) throw new Error("请填写发放原因（记入审计日志）");
      const answer = await post(`/admin/coupons/${enc(c.coupon_id)}/grants`, { user_ids: userIds, reason: reason.value.trim() });
      outcome.replaceChildren(h("div", {},
        answer.granted.length ? h("p", { class: "notice" }, `已发放 ${answer.granted.length} 人：`,
          answer.granted.map((g) => g.user_id).join("、")) : null,
        answer.refused.map((r) => h("p", { class: "error", testid: "grant-refused" },
          `未发放 ${r.user_id}：${REFUSAL_WORDS[r.code] || r.code}`))));
      await reload();                                    // the list's counts: the card stays with its outcome
      return `已发放 ${answer.granted.length} 张，${answer.refused.length} 人未发放`;
    }), outcome);
}

export const page = { route: "coupons", title: "优惠券", needs: "GET /admin/coupons", render: coupons };
