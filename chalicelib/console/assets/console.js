// The staff console: a hash-routed page per back-office task over the existing API. What each
// role sees comes from /openapi.json's x-roles (the API's own access table), so the menu can
// never offer a page whose calls the server would refuse.
import { explain, forget, get, h, login, post, session } from "./api.js";
import { learnVenueZone } from "./venue-time.js";
import { page as afterSales } from "./pages/after-sales.js";
import { page as alerts } from "./pages/alerts.js";
import { page as audit } from "./pages/audit.js";
import { page as coupons } from "./pages/coupons.js";
import { page as dashboard } from "./pages/dashboard.js";
import { page as inventory } from "./pages/inventory.js";
import { page as memberTiers } from "./pages/member-tiers.js";
import { page as notifications } from "./pages/notifications.js";
import { page as orders } from "./pages/orders.js";
import { page as products } from "./pages/products.js";
import { page as promotions } from "./pages/promotions.js";
import { page as reconciliation } from "./pages/reconciliation.js";
import { page as refunds } from "./pages/refunds.js";
import { page as reports } from "./pages/reports.js";
import { page as sessions } from "./pages/sessions.js";
import { page as staff } from "./pages/staff.js";

const app = document.getElementById("app");
let allowed = null;            // "METHOD path" -> roles, from /openapi.json

async function accessTable() {
  if (!allowed) {
    const doc = await get("/openapi.json", { anonymous: true });
    learnVenueZone(doc.info["x-venue-timezone"]);      // every time shown is the venue's
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

// One module per page (pages/), each naming the call it needs: the menu shows it only to roles the
// API allows that call.
export const MENU = [dashboard, products, inventory, sessions, orders, refunds, afterSales, coupons, promotions, memberTiers, notifications, alerts, reports,
                     reconciliation, audit, staff];

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

window.addEventListener("hashchange", route);
route().then(() => { document.body.dataset.ready = "true"; });
