// 会员等级: the member tiers (会员价) as customers reach them by what they paid; set whole (PUT) by
// those the API lets, read by the rest.
import { get, h, put, yuan } from "../api.js";
import { yuanInput, zhe, zheInput } from "../money.js";
import { tiersBody } from "../offers.js";
import { action, cell, table } from "../widgets.js";

const ROWS_MAX = 9;                  // tiers 1..9, as the API takes them

async function memberTiers(body, { may }) {
  const shown = h("div", { class: "section", testid: "tier-list" });
  const editable = may("PUT /admin/member-tiers");
  const editor = h("div", {});
  const render = ({ tiers }) => shown.replaceChildren(table([["等级"], ["名称"], ["近 365 天实付满", 1], ["会员价"]], tiers.map((t) => h("tr", { testid: "tier-row" },
      cell(`V${t.tier}`), cell(t.name), cell(yuan(t.min_spend), 1), cell(`${zhe(t.percent_off)}${t.percent_off ? `（减 ${t.percent_off}%）` : ""}`))),
    "未设置会员等级：所有顾客按原价购买"));
  body.append(h("p", { class: "hint" }, "按顾客近 365 天实付（扣除退款）自动评定等级，未达最低等级按原价；"
    + "不参与会员价的商品不打折。修改约 30 秒后生效。"), shown, editor);
  const now = await get("/admin/member-tiers");
  render(now);
  if (editable) editor.replaceChildren(tierEditor(now.tiers, render));
}

function tierEditor(tiers, saved) {
  const rows = h("tbody", {});
  const addRow = (t = {}) => {
    const input = (name, value, placeholder, width) => h("input", { name, value: value ?? "", placeholder, style: `width:${width}` });
    const tr = h("tr", { testid: "tier-edit-row" },
      h("td", {}, input("name", t.name, "如 银卡", "8em")),
      h("td", {}, input("minSpend", t.min_spend ? yuanInput(t.min_spend) : "", "如 1000", "9em")),
      h("td", {}, input("discount", t.percent_off !== undefined ? zheInput(t.percent_off) : "",
                        "如 9.5", "6em"), " 折"),
      h("td", {}, h("button", { class: "secondary", type: "button", onclick: () => tr.remove() }, "删除")));
    rows.append(tr);
  };
  for (const t of tiers) addRow(t);
  if (!tiers.length) addRow();
  return h("div", { class: "card section", testid: "tier-editor" }, h("h2", {}, "修改会员等级"),
    h("table", {}, h("thead", {}, h("tr", {}, ["名称", "近 365 天实付满（元）", "会员价（折）", ""].map((t) => h("th", {}, t)))), rows),
    h("div", { class: "row" }, h("button", { class: "secondary", type: "button",
      onclick: () => { if (rows.children.length < ROWS_MAX) addRow(); } }, "＋ 添加等级"),
    action("保存会员等级", async () => {
      const typed = [...rows.children].map((tr) => Object.fromEntries([...tr.querySelectorAll("input")].map((i) => [i.name, i.value])));
      const answer = await put("/admin/member-tiers", tiersBody(typed));
      saved(answer);
      return answer.tiers.length ? `已保存 ${answer.tiers.length} 个等级` : "已清除会员等级";
    })),
    h("p", { class: "hint" }, "等级按实付门槛自动排序编号；等级越高，门槛需越高，优惠不少于低一级。清空所有行并保存即取消会员价。"));
}

export const page = { route: "member-tiers", title: "会员等级", needs: "GET /admin/member-tiers", render: memberTiers };
