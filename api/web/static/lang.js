// The page's language for the other scripts (from <html data-lang>; the CSP allows no inline script).
window.LANG = document.documentElement.dataset.lang || "zh";

// Times are stored in UTC; people read them in China's time zone (Asia/Shanghai), as YYYY-MM-DD HH:MM:SS.
window.chinaTime = function (iso) {
  if (!iso) return "";
  var s = String(iso);
  if (!/[zZ]|[+-]\d\d:?\d\d$/.test(s)) s += "Z";  // a naive time from the API is UTC
  var d = new Date(s);
  if (isNaN(d.getTime())) return String(iso);
  var p = {};
  new Intl.DateTimeFormat("en-GB", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" })
    .formatToParts(d).forEach(function (x) { p[x.type] = x.value; });
  return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second;
};
