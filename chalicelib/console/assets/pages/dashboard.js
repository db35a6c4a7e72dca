// 概览: the page a manager opens on: today against yesterday, the last two weeks' sales where the
// role may read them, and the work waiting.
import { get, h, yuan } from "../api.js";
import { barChart, lineChart } from "../charts.js";
import { venueDate } from "../venue-time.js";

function change(today, yesterday, money) {
  if (!yesterday) return h("div", { class: "delta muted" }, "昨日 " + (money ? yuan(yesterday) : yesterday));
  const percent = Math.round(((today - yesterday) / yesterday) * 100);
  return h("div", { class: "delta " + (percent >= 0 ? "up" : "down") },
           `较昨日 ${percent >= 0 ? "↑" : "↓"}${Math.abs(percent)}%（昨日 ${money ? yuan(yesterday) : yesterday}）`);
}

async function dashboard(body, { may }) {
  const data = await get("/admin/dashboard");
  const figures = [["今日销售额", "gmv", true, "today-gmv"], ["今日订单", "orders", false, "today-orders"],
                   ["客单价", "aov", true, "today-aov"], ["今日退款", "refunded", true, "today-refunded"],
                   ["今日入场", "redeemed", false, "today-redeemed"]];
  body.append(h("div", { class: "grid section" }, figures.map(([label, key, money, testid]) =>
    h("div", { class: "card" }, h("div", { class: "label" }, label),
      h("div", { class: "big", testid }, money ? yuan(data.today[key]) : data.today[key]),
      change(data.today[key], data.yesterday[key], money)))));
  const todo = [["待审核退款", "refund_requests", "refunds", "todo-refund-requests"],
                ["待发货订单", "to_ship", "orders?status=PAID", "todo-to-ship"],
                ["库存预警", "low_stock", "inventory?low=1", "todo-low-stock"],
                ["退款失败", "failed_refunds", "refunds?status=FAILED", "todo-failed-refunds"],
                ["待处理售后", "after_sales", "after-sales", "todo-after-sales"],
                ["昨日对账差异", "reconciliation_differences", "reconciliation", "todo-reconciliation"]];
  const chart = h("div", { class: "chart", testid: "sales-chart" });
  body.append(h("div", { class: "split section" },
    h("div", { class: "card" }, h("h2", {}, "近 14 天销售趋势"), chart),
    h("div", { class: "card todo" }, h("h2", {}, "待办事项"), todo.map(([label, key, link, testid]) =>
      h("a", { href: "#/" + link }, label, h("b", { testid }, data.todo[key]))))));
  if (may("GET /admin/reports/sales")) {
    const report = await get(`/admin/reports/sales?group_by=day&from=${venueDate(-13)}&to=${venueDate()}`);
    const byDay = new Map(report.rows.map((r) => [r.key, r]));
    const days = Array.from({ length: 14 }, (_, i) => venueDate(i - 13));
    lineChart(chart, days.map((d) => d.slice(5)), [
      { name: "销售额（元）", data: days.map((d) => ((byDay.get(d) || {}).gross || 0) / 100) },
      { name: "退款（元）", data: days.map((d) => ((byDay.get(d) || {}).refunded || 0) / 100) }]);
  } else {                       // the trend is finance's; the others see today against yesterday
    barChart(chart, ["昨日", "今日"], [{ name: "销售额（元）", data: [data.yesterday.gmv / 100, data.today.gmv / 100] }]);
  }
}

export const page = { route: "dashboard", title: "概览", needs: "GET /admin/dashboard", render: dashboard };
