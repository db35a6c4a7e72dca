// 满减: the full-reduction promotions with their tiers, scope and dates; a new one in yuan and venue
// time, and a running one stopped, for those the API lets change them.
import { get, h, patch, post } from "../api.js";
import { promotionBody, promotionState, reductionText, scopeText, shortTime, venueWallTime } from "../offers.js";
import { action, checkedKinds, enc, field, kindBoxes, table } from "../widgets.js";

const MAX_TIERS = 5;                 // as the API takes them

async function promotions(body, { may }) {
  const list = h("div", { class: "section", testid: "promotion-list" });
  const editable = may("PATCH /admin/promotions/{promotion_id}");
  async function load() {
    const { items } = await get("/admin/promotions");
    list.replaceChildren(table([["活动"], ["状态"], ["满减档位"], ["适用"], ["开始"], ["结束"], [""]], items.map((p) => {
      const [css, words] = promotionState(p);
      return h("tr", { testid: "promotion-row", "data-promotion-id": p.promotion_id },
        h("td", {}, h("div", {}, p.name), h("div", { class: "hint small" }, p.promotion_id)),
        h("td", {}, h("span", { class: "tag " + css, testid: "promotion-status" }, words)),
        h("td", {}, reductionText(p.tiers)), h("td", {}, scopeText(p.scope)),
        h("td", {}, shortTime(p.starts_at)), h("td", {}, shortTime(p.ends_at)),
        h("td", { class: "actions" }, editable && p.status !== "stopped" && css !== "closed" ? action("停止", async () => {
          if (!confirm(`停止满减活动「${p.name}」？停止后新订单不再享受此优惠。`)) return "已取消";
          await patch(`/admin/promotions/${enc(p.promotion_id)}`, { status: "stopped" });
          await load();
          return "已停止";
        }, { danger: true }) : null));
    }), "还没有满减活动"));
  }
  if (may("POST /admin/promotions")) body.append(promotionForm(load));
  body.append(h("h2", {}, "全部满减活动"), h("p", { class: "hint" },
    "多个活动同时进行时各自按档位计算；门槛按会员价之后的金额计算，优惠券在满减之后使用。修改约 30 秒后对新订单生效。"), list);
  await load();
}

function promotionForm(created) {
  const name = h("input", { testid: "promotion-name", maxlength: 60, placeholder: "如 冬季文创满减", style: "width:16em" });
  const tiers = h("div", { class: "row fields" });
  const addTier = () => {
    const n = tiers.children.length + 1;
    const money = (what, placeholder) => h("input", { inputmode: "decimal", placeholder, style: "width:8em",
                                                       testid: `tier-${what}-${n}` });
    tiers.append(h("span", { class: "row tight tier" }, field(`第 ${n} 档：满（元）`, money("threshold", "如 200")),
                   field("减（元）", money("amount", "如 30"))));
    more.hidden = n >= MAX_TIERS;
  };
  const more = h("button", { class: "secondary", type: "button", onclick: () => addTier() }, "＋ 添加一档");
  const kinds = kindBoxes();
  const startsAt = h("input", { type: "datetime-local", testid: "promotion-starts", value: venueWallTime() });
  const endsAt = h("input", { type: "datetime-local", testid: "promotion-ends", value: venueWallTime(30) });
  addTier();
  return h("div", { class: "card section", testid: "promotion-form" }, h("h2", {}, "新建满减活动"),
    h("div", { class: "row fields" }, field("活动名称", name),
      h("span", { class: "field" }, h("span", {}, "适用商品"), h("span", { class: "row tight" }, kinds)),
      field("开始（场馆时间）", startsAt), field("结束", endsAt)),
    tiers, h("div", { class: "row" }, more),
    action("创建满减", async () => {
      const rows = [...tiers.querySelectorAll(".tier")].map((row) => {
        const [threshold, amount] = row.querySelectorAll("input");
        return { threshold: threshold.value, amount: amount.value };
      });
      const promotion = await post("/admin/promotions", promotionBody({ name: name.value, tiers: rows, kinds: checkedKinds(kinds),
                                                                        startsAt: startsAt.value, endsAt: endsAt.value }));
      await created();
      return `已创建 ${promotion.name}（${reductionText(promotion.tiers)}）`;
    }));
}

export const page = { route: "promotions", title: "满减", needs: "GET /admin/promotions", render: promotions };
