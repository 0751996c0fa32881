// The page's language for the other scripts (from <html data-lang>; the CSP allows no inline script).
window.LANG = document.documentElement.dataset.lang || "zh";
