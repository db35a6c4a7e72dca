// The subscribe-message prompt's pure part: which of the stage's templates (GET /notifications/templates)
// are asked for at which tap, and what each is called in the dialog. Pure (no page, no network), so
// that node holds it to its cases (tests/js/shop-subscribe-words.test.mjs).

// The taps that ask (API.md "Notifications"; domain/subscription_prompts.py): a ticket order's pay tap,
// a goods order's pay tap, and a refund or after-sales request.
export const POINTS = ["ticket_order", "goods_order", "refund"];

// WeChat allows at most three templates in one wx.requestSubscribeMessage call.
export const MAX_PER_TAP = 3;

// Each event's message as the dialog names it (as a template's title reads in WeChat's console).
export const TEMPLATE_NAMES = {
  ticket_issued: "出票通知",
  session_reminder: "场次提醒",
  session_cancelled: "场次取消",
  pickup_ready: "待取货",
  shipped: "已发货",
  refund_result: "退款结果",
};

// What each message is for, in a line under its name.
export const TEMPLATE_HINTS = {
  ticket_issued: "支付成功后发送门票和入园方式",
  session_reminder: "场次前一天提醒您按时入场",
  session_cancelled: "场馆取消场次时通知您并自动退款",
  pickup_ready: "商品备好后通知您到店自提",
  shipped: "商品发出后通知您物流单号",
  refund_result: "退款成功、失败或被拒绝时通知您",
};

export const SHEET_TITLE = "「文博商城」申请向你发送以下通知";

export const templateName = (event) => TEMPLATE_NAMES[event] || "服务通知";

// The templates to ask for at `point`: those the stage configured for it, in the order the API lists
// them, at most three, each with its Chinese name and hint.
export function templatesFor(items, point) {
  return (items || [])
    .filter((t) => t.ask_at === point && t.template_id)
    .slice(0, MAX_PER_TAP)
    .map((t) => ({ ...t, name: templateName(t.event), hint: TEMPLATE_HINTS[t.event] || "" }));
}

// The mini-program's native page that asks for them (a web-view cannot call
// wx.requestSubscribeMessage): /pages/subscribe/index?point=<point>&templates=<id,id>.
export function nativePageUrl(point, templates) {
  const ids = templates.map((t) => t.template_id).join(",");
  return `/pages/subscribe/index?point=${encodeURIComponent(point)}&templates=${encodeURIComponent(ids)}`;
}

// Whether the shop runs inside a mini-program's web-view: WeChat's JS-SDK marks it so
// (window.__wxjs_environment), or its bridge (wx.miniProgram) is there.
export function inMiniProgram(win) {
  if (!win) return false;
  return win.__wxjs_environment === "miniprogram" || Boolean(win.wx && win.wx.miniProgram);
}
