// The customer shop: a hash-routed page per step of a visit (catalog, product, order, payment,
// tickets, coupons) over the same API as the mini-program. One module per page (pages/), each
// `{title, signIn, render(args, query)}`: add a page by adding its module and its entry in ROUTES.
import { ApiError, explain, h, session, signIn, signOut } from "./api.js";
import { errorBox, loading } from "./view.js";
import { parse } from "./hash.js";
import { page as catalog } from "./pages/catalog.js";
import { page as product } from "./pages/product.js";
import { page as checkout } from "./pages/checkout.js";
import { page as pay } from "./pages/pay.js";
import { page as orders } from "./pages/orders.js";
import { page as order } from "./pages/order.js";
import { page as tickets } from "./pages/tickets.js";
import { page as coupons } from "./pages/coupons.js";
import { page as refund } from "./pages/refund.js";
import { page as reschedule } from "./pages/reschedule.js";
import { page as afterSale } from "./pages/after-sale.js";

// #/<name>/<arg>...?<query>. Next from this branch: refund (退款), reschedule (改签) and after-sales
// (售后) pages, reached from the order page (pages/order.js `ORDER_ACTIONS`), and the subscribe
// prompt after payment (pages/pay.js).
export const ROUTES = { "": catalog, product, checkout, pay, orders, order, tickets, coupons,
                         refund, reschedule, "after-sale": afterSale };

// The bottom bar: the three places a visitor goes back to.
const TABS = [["#/", "首页", ""], ["#/coupons", "优惠券", "coupons"], ["#/orders", "我的订单", "orders"]];

const app = document.getElementById("app");

export { parse };

function shell(page, name, content) {
  const back = name ? h("a", { class: "back", href: "#/", "aria-label": "返回",
                               onclick: (e) => { if (history.length > 1) { e.preventDefault(); history.back(); } } },
                        "‹") : null;
  const header = h("header", { class: "bar" }, back, h("h1", {}, page.title));
  const tabs = h("nav", { class: "tabs", "aria-label": "主菜单" },
                 TABS.map(([href, text, tab]) => h("a", { href, "aria-current": tab === name ? "page" : null }, text)));
  return page.fullScreen ? [content] : [header, h("main", {}, content), tabs];
}

// Without a token: inside WeChat the mini-program signs the visitor in (it opens the shop with
// ?code=<wx.login code>); in a browser on the local stack an openid makes the code `dev:<openid>`.
function signInPrompt(notice) {
  const openid = h("input", { id: "openid", name: "openid", autocomplete: "username", testid: "openid",
                              placeholder: "例如 visitor-1", required: true });
  const message = h("p", { class: "error", role: "alert", hidden: true });
  const button = h("button", { type: "submit", class: "block", testid: "sign-in" }, "登录");
  const form = h("form", {
    class: "card",
    onsubmit: async (event) => {
      event.preventDefault();
      button.disabled = true;
      button.textContent = "正在登录…";
      try {
        await signIn("dev:" + openid.value.trim());
        await route();
      } catch (e) {
        message.hidden = false;
        message.textContent = explain(e);
        button.disabled = false;
        button.textContent = "登录";
      }
    },
  }, notice ? h("p", { class: "notice", testid: "sign-in-notice" }, notice) : null,
     h("p", {}, "请从微信小程序进入商城，将自动登录。"),
     h("p", { class: "muted" }, "本地调试：输入一个 openid 登录（使用 dev:<openid> 登录码）。"),
     h("label", { for: "openid" }, "openid"), openid, button, message);
  return h("section", { class: "sign-in", testid: "sign-in-panel" }, form);
}

let current = 0;          // the latest navigation: an older page that finishes late is not shown

export async function route() {
  const mine = ++current;
  const { name, args, query } = parse(location.hash);
  const page = ROUTES[name] || catalog;
  document.title = `${page.title} · 文博商城`;
  if (page.signIn && !session()) {
    app.replaceChildren(...shell({ title: "登录" }, name, signInPrompt()));
    return;
  }
  const content = h("div", { class: "page", "data-page": name || "catalog" }, loading());
  app.replaceChildren(...shell(page, name, content));
  try {
    const built = await page.render(args, query);
    if (mine === current) content.replaceChildren(built);
  } catch (e) {
    if (mine !== current) return;
    if (e instanceof ApiError && e.status === 401) {            // the token expired or was ended: sign in again
      app.replaceChildren(...shell({ title: "登录" }, name, signInPrompt("登录已过期，请重新登录")));
      return;
    }
    content.replaceChildren(errorBox(e, route));
  }
}

// /shop/?code=<code>: sign in with it (as the mini-program's wx.login code), keep the token, and take
// the code out of the address so that a reload or a shared link does not send it again.
async function start() {
  const url = new URL(location.href);
  const code = url.searchParams.get("code");
  if (code) {
    url.searchParams.delete("code");
    history.replaceState(null, "", url.pathname + url.search + url.hash);
    app.replaceChildren(loading("正在登录…"));
    try {
      signOut();
      await signIn(code);
    } catch (e) {
      app.replaceChildren(errorBox(e, start));
      return;
    }
  }
  window.addEventListener("hashchange", route);
  await route();
}

start();
