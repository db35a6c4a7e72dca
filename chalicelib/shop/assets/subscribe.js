// The subscribe-message prompt (订阅消息): `askForMessages(point)` at the taps that lead to a message,
// point = "ticket_order" | "goods_order" (the pay tap, before paying) | "refund" (a refund or
// after-sales request). WeChat grants one message per acceptance and only from a tap, so the prompt
// runs inside the tap's handler, before its request.
//
// Inside the mini-program's web-view the page cannot call wx.requestSubscribeMessage (web-views have
// no access to it), so it hands over to the mini-program's native page
//   wx.miniProgram.navigateTo({url: "/pages/subscribe/index?point=<point>&templates=<id,id>"})
// which calls wx.requestSubscribeMessage with those template ids, POSTs what the customer accepted to
// /me/subscriptions, and navigates back to the web-view. In a plain browser (the local stack) the shop
// shows a sheet like WeChat's dialog instead, and 允许 POSTs the accepted ids itself.
//
// It never fails its caller: a prompt that cannot be shown or saved leaves the tap to go on (the
// message then goes out only if an earlier acceptance left a credit).
import { explain, get, h, post } from "./api.js";
import { SHEET_TITLE, inMiniProgram, nativePageUrl, templatesFor } from "./subscribe-words.js";

let templates = null;          // the stage's templates, asked for once per page load

function stageTemplates() {
  if (!templates) {
    templates = get("/notifications/templates").then((answer) => answer.items || []);
    templates.catch(() => { templates = null; });        // a failure is asked again next time
  }
  return templates;
}

// Resolves to {asked: [template ids], accepted: [ids], credits?, handedOver?}.
export async function askForMessages(point) {
  let chosen;
  try {
    chosen = templatesFor(await stageTemplates(), point);
  } catch (e) {
    return { asked: [], accepted: [] };
  }
  if (!chosen.length) return { asked: [], accepted: [] };
  const asked = chosen.map((t) => t.template_id);
  if (inMiniProgram(window)) {
    try {
      window.wx.miniProgram.navigateTo({ url: nativePageUrl(point, chosen) });
    } catch (e) { /* no bridge after all: nothing asked */ }
    return { asked, accepted: [], handedOver: true };
  }
  return sheet(chosen, asked);
}

function sheet(chosen, asked) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const switches = chosen.map((t) => h("input", {
      type: "checkbox", checked: true, role: "switch", value: t.template_id, id: "sub-" + t.template_id,
      testid: "subscribe-template",
    }));
    const message = h("p", { class: "error", role: "alert", hidden: true, testid: "subscribe-error" });
    const close = (answer) => {
      document.removeEventListener("keydown", onKey);
      overlay.remove();
      if (opener && opener.focus) opener.focus();
      resolve(answer);
    };
    const cancel = h("button", { type: "button", class: "secondary", testid: "subscribe-cancel",
                                 onclick: () => close({ asked, accepted: [] }) }, "取消");
    const allow = h("button", { type: "button", testid: "subscribe-allow", onclick: async () => {
      const accepted = switches.filter((s) => s.checked).map((s) => s.value);
      if (!accepted.length) { close({ asked, accepted }); return; }
      allow.disabled = cancel.disabled = true;
      allow.textContent = "正在保存…";
      allow.setAttribute("aria-busy", "true");
      message.hidden = true;
      try {
        const answer = await post("/me/subscriptions", { accepted });
        close({ asked, accepted, credits: answer.credits });
      } catch (e) {
        message.hidden = false;
        message.textContent = explain(e);
        allow.disabled = cancel.disabled = false;
        allow.textContent = "允许";
        allow.removeAttribute("aria-busy");
      }
    } }, "允许");
    const onKey = (e) => { if (e.key === "Escape" && !allow.disabled) close({ asked, accepted: [] }); };
    const panel = h("div", { class: "sub-sheet", role: "dialog", "aria-modal": "true", "aria-labelledby": "sub-title",
                             testid: "subscribe-sheet" },
      h("div", { class: "sub-brand" }, h("span", { class: "sub-logo", "aria-hidden": "true" }, "文"), "文博商城"),
      h("h2", { id: "sub-title" }, SHEET_TITLE),
      h("ul", { class: "sub-list" }, chosen.map((t, i) => h("li", {},
        h("label", { for: switches[i].id },
          h("span", { class: "sub-name" }, t.name, t.hint ? h("small", {}, t.hint) : null), switches[i])))),
      h("p", { class: "sub-note" }, "每次允许可收到一次对应通知，可在微信「设置」中管理。"),
      message,
      h("div", { class: "sub-actions" }, cancel, allow));
    const overlay = h("div", { class: "sub-overlay", onclick: (e) => {
      if (e.target === overlay && !allow.disabled) close({ asked, accepted: [] });
    } }, panel);
    document.addEventListener("keydown", onKey);
    document.body.append(overlay);
    allow.focus();
  });
}
