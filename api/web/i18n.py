"""Page texts in Chinese (default) and English. ``t(key, lang)``; add keys here, both languages.

The language comes from ``?lang=en|zh``, remembered in the ``lang`` cookie; Chinese by default.
"""

from __future__ import annotations

from fastapi import Request

LANGS = ("zh", "en")

TEXTS: dict[str, dict[str, str]] = {
    "app_name": {"zh": "双随机、一公开 抽查系统", "en": "Double-random inspections"},
    "nav_home": {"zh": "首页", "en": "Home"},
    "nav_enterprise": {"zh": "企业查询", "en": "Enterprise"},
    "nav_public": {"zh": "结果公示", "en": "Public results"},
    "nav_planner": {"zh": "计划编制", "en": "Planner"},
    "nav_auditor": {"zh": "审计记录", "en": "Audit"},
    "switch_lang": {"zh": "English", "en": "中文"},
    "sign_in": {"zh": "登录", "en": "Sign in"},
    "sign_out": {"zh": "退出", "en": "Sign out"},
    "username": {"zh": "用户名", "en": "User name"},
    "password": {"zh": "密码", "en": "Password"},
    "footer": {
        "zh": "随机抽取可由任何人依据公开种子复核；页面不显示任何个人信息。",
        "en": "Anyone can re-check the draw from the public seed; no personal data is shown.",
    },
}


def lang_of(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get("lang")
    return c if c in LANGS else "zh"


def t(key: str, lang: str) -> str:
    entry = TEXTS.get(key)
    if entry is None:
        return key
    return entry.get(lang) or entry["zh"]
