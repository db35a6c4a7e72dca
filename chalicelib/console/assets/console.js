// The staff console: a hash-routed page per back-office task over the existing API. What each
// role sees comes from /openapi.json's x-roles (the API's own access table), so the menu can
// never offer a page whose calls the server would refuse.
import { explain, forget, get, h, login, post, session, venueDate, yuan } from "./api.js";
import { barChart, lineChart } from "./charts.js";
import { PAGES } from "./pages.js";

const app = document.getElementById("app");
let allowed = null;            // "METHOD path" -> roles, from /openapi.json

async function accessTable() {
  if (!allowed) {
    const doc = await get("/openapi.json", { anonymous: true });
    allowed = {};
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        allowed[`${method.toUpperCase()} ${path}`] = operation["x-roles"] || [];
      }
    }
  }
  return allowed;
}

export function may(call) {
  const current = session();
  const roles = (allowed && allowed[call]) || [];
  return !!current && (roles.includes("anyone") || current.roles.some((r) => roles.includes(r)));
}

export const MENU = [
  { route: "dashboard", title: "概览", needs: "GET /admin/dashboard", render: dashboard },
  ...PAGES,
];

// ------------------------------------------------------------------ login
function loginPage(message) {
  const error = h("p", { class: "error", testid: "login-error", hidden: !message }, message || "");
  const username = h("input", { testid: "username", placeholder: "用户名", autocomplete: "username", required: true });
  const password = h("input", { testid: "password", type: "password", placeholder: "密码",
                                autocomplete: "current-password", required: true });
  const form = h("form", {
    onsubmit: async (event) => {
      event.preventDefault();
      try {
        await login(username.value.trim(), password.value);
        location.hash = "#/dashboard";
        await route();
      } catch (e) {
        error.hidden = false;
        error.textContent = explain(e);
      }
    },
  }, username, password, h("button", { testid: "login-submit", type: "submit" }, "登录"), error);
  app.replaceChildren(h("div", { class: "login-page card" }, h("h1", {}, "micromall 管理后台"),
                        h("p", { class: "muted" }, "使用员工账号登录"), form));
  username.focus();
}

// ------------------------------------------------------------------ the shell
async function route() {
  const current = session();
  if (!current) { loginPage(); return; }
  await accessTable();
  const visible = MENU.filter((page) => may(page.needs));
  const wanted = (location.hash.replace(/^#\//, "") || "dashboard").split("?")[0];
  const page = visible.find((p) => p.route === wanted) || visible[0];
  const nav = h("nav", {},
    h("div", { class: "brand" }, "micromall"),
    visible.map((p) => h("a", { href: "#/" + p.route, class: p === page ? "active" : "" }, p.title)),
    h("a", { href: "scanner" }, "闸机核销 ↗"));
  const main = h("main", {});
  const header = h("header", {},
    h("div", { class: "row" }, h("button", { class: "secondary menu-toggle", onclick: () => nav.classList.toggle("open") }, "☰"),
      h("h1", {}, page ? page.title : "无可用页面")),
    h("div", { class: "row" }, h("span", { class: "muted" }, `${current.username}（${current.roles.join("、")}）`),
      h("button", { class: "secondary", testid: "logout", onclick: async () => {
        try { await post("/auth/staff/logout"); } catch (e) { /* the token ends with its time anyway */ }
        forget(); location.hash = ""; route();
      } }, "退出")));
  const body = h("div", {});
  main.append(header, body);
  app.replaceChildren(h("div", { class: "shell" }, nav, main));
  if (!page) { body.append(h("p", { class: "muted" }, "此账号没有可用的后台页面。")); return; }
  try {
    await page.render(body, { may });
  } catch (error) {
    if (!session()) { loginPage("登录已过期，请重新登录"); return; }
    body.append(h("p", { class: "error" }, explain(error)));
  }
}

// ------------------------------------------------------------------ dashboard
function change(today, yesterday, money) {
  if (!yesterday) return h("div", { class: "delta muted" }, "昨日 " + (money ? yuan(yesterday) : yesterday));
  const percent = Math.round(((today - yesterday) / yesterday) * 100);
  return h("div", { class: "delta " + (percent >= 0 ? "up" : "down") },
           `较昨日 ${percent >= 0 ? "↑" : "↓"}${Math.abs(percent)}%（昨日 ${money ? yuan(yesterday) : yesterday}）`);
}

async function dashboard(body) {
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

window.addEventListener("hashchange", route);
route().then(() => { document.body.dataset.ready = "true"; });
