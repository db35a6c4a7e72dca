// 消息通知设置: which WeChat subscribe messages this stage sends (a template id configured for the
// event), the page each opens, where the mini-program asks for it, and the fields the template picked
// in WeChat's console must have. Read-only: template ids belong to the stage's configuration.
import { get, h } from "../api.js";
import { APP_VERSIONS, ASK_AT, eventWord, fieldsWord, pageWord } from "../message-words.js";
import { cell, table } from "../widgets.js";

async function notificationSettings(body) {
  const { miniprogram_state: version, items } = await get("/admin/notifications/templates");
  const missing = items.filter((t) => !t.configured).length;
  body.append(
    h("p", { class: "hint" }, "顾客在小程序中点击支付或申请退款时授权订阅，每次授权可收到一条消息；未配置模板的通知不会发送。"
      + "模板 ID 在小程序后台「订阅消息」中选用，按阶段写入部署配置（.chalice/config.json 的 WECHAT_TEMPLATE_…）。"),
    h("div", { class: "row section" },
      h("span", { class: "tag", testid: "miniprogram-state" }, `消息打开：${APP_VERSIONS[version] || version}小程序`),
      h("span", { class: missing ? "tag msg-FAILED" : "tag msg-SENT", testid: "templates-configured" },
        missing ? `${missing} 项未配置` : "全部已配置")),
    h("div", { class: "templates" }, table([["通知"], ["状态"], ["模板 ID"], ["订阅时机"], ["打开页面"], ["模板字段"]],
      items.map((t) => h("tr", { testid: "template-row", "data-event": t.event, "data-configured": String(t.configured) },
        h("td", { class: "nowrap" }, eventWord(t.event)),
        h("td", {}, h("span", { class: t.configured ? "tag msg-SENT" : "tag msg-FAILED" }, t.configured ? "已配置" : "未配置，不发送")),
        h("td", { class: "id" }, t.template_id || "—"),
        h("td", { class: "nowrap" }, ASK_AT[t.ask_at] || t.ask_at), h("td", { class: "id" }, pageWord(t.page)),
        cell(fieldsWord(t.fields)))))));
}

export const page = { route: "notifications", title: "消息通知", needs: "GET /admin/notifications/templates",
                      render: notificationSettings };
