// 报表: sales over a range of days by a dimension, and one day's admissions, each drawn, listed and
// exported as CSV.
import { download, explain, get, h, yuan } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { venueDate } from "../venue-time.js";
import { action, cell, table } from "../widgets.js";

const SALES_GROUPS = { day: "按日", hour: "按时段", product: "按商品", sku: "按规格", category: "按分类" };
const ADMISSION_GROUPS = { hour: "按时段", gate: "按闸口", sku: "按规格", session: "按场次" };

async function reports(body, { may }) {
  const from = h("input", { type: "date", value: venueDate(-6) });
  const to = h("input", { type: "date", value: venueDate() });
  const group = h("select", {}, Object.entries(SALES_GROUPS).map(([k, v]) => h("option", { value: k }, v)));
  const top = h("input", { type: "number", min: 1, max: 1000, placeholder: "前 N 名", style: "width:7em" });
  const totals = h("div", { class: "grid section" });
  const chart = h("div", { class: "chart", testid: "report-chart" });
  const rows = h("div", {});
  const query = () => `from=${from.value}&to=${to.value}&group_by=${group.value}${top.value ? "&top=" + top.value : ""}`;
  const load = async () => {
    const r = await get("/admin/reports/sales?" + query());
    totals.replaceChildren(...[["订单", r.totals.orders], ["件数", r.totals.units], ["销售额", yuan(r.totals.gross)],
      ["优惠", yuan(r.totals.discount || 0)], ["退款", yuan(r.totals.refunded)], ["净额", yuan(r.totals.net)], ["客单价", yuan(r.totals.aov)]]
      .map(([label, value]) => h("div", { class: "card" }, h("div", { class: "label" }, label), h("div", { class: "big" }, value))));
    const labels = r.rows.map((x) => x.label || x.key);
    chart.parentElement.hidden = !r.rows.length;
    if (!r.rows.length) { /* nothing sold in the range: the table says so */ } else if (r.group_by === "day" || r.group_by === "hour") lineChart(chart, labels, [{ name: "销售额（元）", data: r.rows.map((x) => x.gross / 100) }, { name: "退款（元）", data: r.rows.map((x) => x.refunded / 100) }]);
    else barChart(chart, labels, [{ name: "销售额（元）", data: r.rows.map((x) => x.gross / 100) }], true);
    rows.replaceChildren(table([["项目"], ["订单", 1], ["件数", 1], ["销售额", 1], ["优惠", 1], ["退款", 1], ["净额", 1], ["客单价", 1]],
      r.rows.map((x) => h("tr", {}, cell(x.label || x.key), cell(x.orders, 1), cell(x.units, 1), cell(yuan(x.gross), 1),
        cell(yuan(x.discount || 0), 1), cell(yuan(x.refunded), 1), cell(yuan(x.net), 1), cell(yuan(x.aov), 1)))));
  };
  if (may("GET /admin/reports/sales")) {
    body.append(h("h2", {}, "销售报表"), h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); load().catch((err) => rows.replaceChildren(h("p", { class: "error" }, explain(err)))); } },
      from, "至", to, group, top, h("button", { type: "submit" }, "查询"),
      action("导出 CSV", () => download("/admin/reports/sales?format=csv&" + query(), `sales-${from.value}-${to.value}.csv`).then(() => "已下载"), { secondary: true })),
      totals, h("div", { class: "card section" }, chart), rows);
    await load();
    await promotionsReport(body, from, to);
  }
  const day = h("input", { type: "date", value: venueDate() });
  const by = h("select", {}, Object.entries(ADMISSION_GROUPS).map(([k, v]) => h("option", { value: k }, v)));
  const admissionChart = h("div", { class: "chart", testid: "admissions-chart" });
  const admissionRows = h("div", {});
  const loadAdmissions = async () => {
    const r = await get(`/admin/reports/redemptions?date=${day.value}&group_by=${by.value}`);
    const labels = r.rows.map((x) => x.label || x.key);
    const series = [{ name: "已入场", data: r.rows.map((x) => x.redeemed) }];
    if (r.rows.some((x) => x.issued !== null)) series.push({ name: "已售出", data: r.rows.map((x) => x.issued || 0) });
    admissionChart.parentElement.hidden = !r.rows.length;      // no scans that day: the table says so
    if (r.rows.length) barChart(admissionChart, labels, series, r.group_by !== "hour");
    admissionRows.replaceChildren(table([["项目"], ["已入场", 1], ["已售出", 1]], r.rows.map((x) => h("tr", {},
      cell(x.label || x.key), cell(x.redeemed, 1), cell(x.issued === null ? "—" : x.issued, 1)))));
  };
  body.append(h("h2", {}, "入场统计"), h("form", { class: "row", onsubmit: (e) => { e.preventDefault(); loadAdmissions(); } },
    day, by, h("button", { type: "submit" }, "查询"),
    action("导出 CSV", () => download(`/admin/reports/redemptions?format=csv&date=${day.value}&group_by=${by.value}`, `redemptions-${day.value}.csv`).then(() => "已下载"), { secondary: true })),
    h("div", { class: "card section" }, admissionChart), admissionRows);
  await loadAdmissions();
}

const PROMOTION_KINDS = { member: "会员价", full_reduction: "满减", coupon: "优惠券" };

// 营销效果: what each promotion took off and the orders it priced, and each coupon's redemption.
async function promotionsReport(body, from, to) {
  const rows = h("div", { testid: "promotions-report" });
  const load = async () => {
    const r = await get(`/admin/reports/promotions?from=${from.value}&to=${to.value}`);
    rows.replaceChildren(
      h("h3", {}, "各活动优惠"),
      table([["活动"], ["类型"], ["订单", 1], ["优惠金额", 1], ["实收", 1]], r.rows.map((x) => h("tr", {},
        cell(x.label || x.key), cell(PROMOTION_KINDS[x.kind] || x.kind), cell(x.orders, 1), cell(yuan(x.discount), 1),
        cell(yuan(x.gross), 1)))),
      h("h3", {}, "优惠券核销"),
      table([["优惠券"], ["领取", 1], ["已使用", 1], ["核销率", 1]], r.coupons.map((c) => h("tr", {},
        cell(c.name || c.coupon_id), cell(c.issued, 1), cell(c.used, 1), cell((c.redemption_rate * 100).toFixed(1) + "%", 1)))));
  };
  body.append(h("h2", {}, "营销效果"), h("p", { class: "hint" }, "按上方日期范围：优惠按付款日计，优惠券按领取日计"),
    h("button", { class: "secondary", onclick: () => load().catch((err) => rows.replaceChildren(h("p", { class: "error" }, explain(err)))) }, "刷新"),
    rows);
  await load().catch((err) => rows.replaceChildren(h("p", { class: "error" }, explain(err))));
}

export const page = { route: "reports", title: "报表", needs: "GET /admin/reports/redemptions", render: reports };
