/* The page's language for the scripts (from <html data-lang>), without an inline script. */
window.LANG = document.documentElement.getAttribute("data-lang") || "zh";
