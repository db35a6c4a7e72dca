// 消息通知 in staff's words: the events that send a WeChat subscribe message, how a message went,
// the tap where the mini-program asks the customer for it, and the kinds of a template's fields as
// WeChat's template console names them. Pure, shared by the order page and the settings page.

export const MESSAGE_EVENTS = { ticket_issued: "出票通知", refund_result: "退款结果", pickup_ready: "待取货",
                                shipped: "已发货", session_reminder: "场次提醒", session_cancelled: "场次取消" };
export const MESSAGE_STATES = { SENT: "已发送", SKIPPED_NO_SUBSCRIPTION: "未订阅，已跳过", FAILED: "发送失败" };
export const ASK_AT = { ticket_order: "购买门票支付时", goods_order: "购买文创支付时", refund: "申请退款/售后时" };
export const FIELD_KINDS = { thing: "事物", character_string: "字符串", time: "时间", amount: "金额",
                             phrase: "汉字", number: "数字", date: "日期" };
export const APP_VERSIONS = { developer: "开发版", trial: "体验版", formal: "正式版" };

export const eventWord = (event) => MESSAGE_EVENTS[event] || event;

// "thing1（事物）、time2（时间）": the keywords a template picked in WeChat's console must have.
export const fieldsWord = (fields) => fields.map((f) => `${f.key}（${FIELD_KINDS[f.kind] || f.kind}）`).join("、");

// The page a message opens, as the customer's mini-program sees it ({order_id} is filled per order).
export const pageWord = (page) => (page ? `/${page.replace(/^\//, "")}` : "—");
