// The app's strings: zh-Hans by default, English on request (kept in localStorage).
import { CONFIG } from "../common/config.js";
import { transition } from "../common/lifecycle.js";

const DICT = {
  "zh-hans": {
    login: "登录", username: "用户名", password: "密码", logout: "退出",
    loginFailed: "用户名或密码错误", noUnit: "此账号未编入巡逻车组", networkError: "网络不可用",
    online: "在线", reconnecting: "重连中…", offline: "离线", queued: "{n} 项待发送",
    shift: "{n} 班", unit: "车组",
    st_available: "待命", st_patrolling: "巡逻", st_dispatched: "已派警", st_en_route: "出警途中",
    st_on_scene: "现场处置", st_out_of_service: "暂停勤务",
    // The incident's states by the names the command map and the admin give them (one name per
    // state: 接警 is the call taken, 签收 the crew's acknowledgement).
    is_received: "已接警", is_dispatched: "已派警", is_acknowledged: "已签收", is_en_route: "已出警",
    is_on_scene: "已到达现场", is_resolved_on_scene: "现场处结", is_transfer_pending: "待派出所接收",
    is_transfer_received: "已移交派出所", is_cancelled: "已撤销",
    cat_criminal: "刑事", cat_public_order: "治安", cat_dispute: "纠纷", cat_assistance: "救助",
    cat_other: "其它",
    newAlert: "新警情", accept: "签收", priority: "{n} 级", distance: "距离",
    elapsed: "已用时", target: "目标", targetMissed: "已超时",
    t1: "1 分钟签收", t3: "3 分钟到达", t5: "5 分钟到达",
    a_acknowledge: "签收", a_en_route: "出发", a_arrive: "到达", a_resolve: "处结",
    a_transfer: "移交",
    summary: "处置结果（简述）", reason: "移交原因", station: "接收派出所", send: "提交", cancel: "取消",
    required: "必填",
    navigate: "导航", navSystem: "系统地图", navAmap: "高德地图", navBaidu: "百度地图",
    noIncident: "当前无警情", myShift: "本班警情", none: "无", queue: "待发送",
    queueEmpty: "无待发送操作", updateReady: "有新版本，点击更新", tilesFailed: "地图底图无法加载",
    refused: "操作被拒绝：{m}", withdrawn: "{n} 已由指挥中心撤回本组", gpsOff: "无定位", gpsAge: "定位 {s} 秒前", lang: "English",
    contrast: "高对比度", wakeLock: "屏幕常亮", training: "近期培训", close: "关闭",
    a_note: "续报", a_backup: "请求增援", a_release: "收队", a_raise: "现场发现警情",
    a_out_of_service: "暂停勤务", a_duty: "勤务状态", a_emergency: "一键求助",
    noteText: "续报内容", backupCount: "需要增援车组数", backupReason: "增援原因",
    releaseReason: "收队说明（可不填）", oosReason: "暂停勤务原因（加油、就餐、故障…）",
    category: "警情类别", priorityLabel: "紧急程度", address: "地址", description: "情况简述",
    needGps: "无定位：请到开阔处等待定位后再上报", backupRole: "增援", asBackup: "（增援）",
    asPrimary: "（主办）", is_cleared: "已收队",
    newNote: "{n} 有新续报", sos: "一键求助", sosHint: "长按 2 秒",
    emergencySent: "求助已发出，等待指挥中心确认…", emergencyAckedShort: "指挥中心已确认求助，支援正在组织（点此关闭）",
    emergencyAcked: "指挥中心（{by}）已确认求助",
    ev_call_linked: "群众再次来电", ev_backup_requested: "请求增援",
    a_photo: "拍照", photoSent: "照片已上传", ev_photo: "现场照片", urgent: "紧急",
    releasedNote: "{n} 本组已收队", closedByPrimary: "{n} 已由主办车组结束，本组收队",
    cancelledNote: "{n} 已由指挥中心撤销", reasonSep: "：",
  },
  en: {
    login: "Log in", username: "Username", password: "Password", logout: "Log out",
    loginFailed: "Wrong username or password", noUnit: "This account is not on a patrol unit",
    networkError: "Network unavailable",
    online: "Online", reconnecting: "Reconnecting…", offline: "Offline", queued: "{n} queued",
    shift: "Shift {n}", unit: "Unit",
    st_available: "Available", st_patrolling: "Patrolling", st_dispatched: "Dispatched",
    st_en_route: "En route", st_on_scene: "On scene", st_out_of_service: "Out of service",
    is_received: "Received", is_dispatched: "Dispatched", is_acknowledged: "Acknowledged",
    is_en_route: "En route", is_on_scene: "On scene", is_resolved_on_scene: "Resolved on scene",
    is_transfer_pending: "Transfer pending", is_transfer_received: "Transferred to station",
    is_cancelled: "Cancelled",
    cat_criminal: "Criminal", cat_public_order: "Public order", cat_dispute: "Dispute",
    cat_assistance: "Assistance", cat_other: "Other",
    newAlert: "New call", accept: "Acknowledge", priority: "P{n}", distance: "Distance",
    elapsed: "Elapsed", target: "Target", targetMissed: "missed",
    t1: "1 min acknowledge", t3: "3 min arrival", t5: "5 min arrival",
    a_acknowledge: "Acknowledge", a_en_route: "En route", a_arrive: "Arrived", a_resolve: "Resolve",
    a_transfer: "Transfer",
    summary: "Outcome (short)", reason: "Reason for transfer", station: "Receiving station",
    send: "Submit", cancel: "Cancel", required: "Required",
    navigate: "Navigate", navSystem: "Maps app", navAmap: "Amap", navBaidu: "Baidu Maps",
    noIncident: "No active call", myShift: "This shift", none: "None", queue: "Queued",
    queueEmpty: "Nothing queued", updateReady: "Update available — tap to reload",
    tilesFailed: "Map tiles unavailable", refused: "Refused: {m}", withdrawn: "{n} was withdrawn from this unit by the command centre", gpsOff: "No GPS",
    gpsAge: "GPS {s}s ago", lang: "中文", contrast: "High contrast", wakeLock: "Screen on",
    training: "Upcoming training", close: "Close",
    a_note: "Add note", a_backup: "Request backup", a_release: "Clear", a_raise: "Report on patrol",
    a_out_of_service: "Out of service", a_duty: "Duty status", a_emergency: "Emergency",
    noteText: "Note", backupCount: "Units needed", backupReason: "Why",
    releaseReason: "Note (optional)", oosReason: "Reason (fuel, meal, breakdown…)",
    category: "Category", priorityLabel: "Priority", address: "Address", description: "What happened",
    needGps: "No GPS fix: wait for a fix in the open before reporting", backupRole: "Backup",
    asBackup: " (backup)", asPrimary: " (primary)", is_cleared: "Cleared",
    newNote: "New note on {n}", sos: "EMERGENCY", sosHint: "hold 2 s",
    emergencySent: "Emergency sent, waiting for the command centre…",
    emergencyAckedShort: "Command centre acknowledged: help is being organised (tap to close)",
    emergencyAcked: "Command centre ({by}) acknowledged the emergency",
    ev_call_linked: "Caller called again", ev_backup_requested: "Backup requested",
    a_photo: "Photo", photoSent: "Photo uploaded", ev_photo: "Photo from the scene", urgent: "urgent",
    releasedNote: "{n}: this unit is released", closedByPrimary: "{n} was closed by the primary unit: this unit is released",
    cancelledNote: "{n} was cancelled by the command centre", reasonSep: ": ",
  },
};

let lang = localStorage.getItem("cad.lang") || "zh-hans";

export function getLang() {
  return lang;
}

// A time as the force reads it: in the command centre's zone (Asia/Shanghai), whatever the
// phone's own clock is set to, on a 24-hour clock, in the app's language; `date` adds the day.
export function formatWhen(iso, { date = false, seconds = true } = {}) {
  const options = { timeZone: CONFIG.timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
  if (seconds) options.second = "2-digit";
  if (date) Object.assign(options, { year: "numeric", month: "2-digit", day: "2-digit" });
  return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN", options);
}

export function setLang(value) {
  lang = DICT[value] ? value : "zh-hans";
  localStorage.setItem("cad.lang", lang);
  document.documentElement.lang = lang === "en" ? "en" : "zh-Hans";
}

export function t(key, vars = {}) {
  const text = DICT[lang][key] ?? DICT["zh-hans"][key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ""));
}

// The crew's word for an action (a_<action> above, shorter than the table's); an action the
// table gains later shows with the server's label until it gets one here.
export function actionLabel(action) {
  const key = "a_" + action;
  if (key in DICT[lang] || key in DICT["zh-hans"]) return t(key);
  return transition(action)?.label ?? action;
}

export function translatePage() {
  document.querySelectorAll("[data-t]").forEach((el) => (el.textContent = t(el.dataset.t)));
  document.querySelectorAll('[data-action="lang"]').forEach((el) => (el.textContent = t("lang")));
}
