"""One message catalogue: every text the command line and the domain show a person, Chinese first.

``t(key, **values)`` renders ``CATALOGUE[key]`` in the current language. The language is Chinese
unless chosen otherwise: ``set_language("en")`` (the command line's ``--lang en``), or
``RANDINSPECT_LANG=en``, or an English ``LANG``/``LC_ALL`` (``en_US.UTF-8``). ``C``/``POSIX``
locales count as no choice, so a bare server or CI still speaks Chinese.

Add keys here, both languages, in the section of the module that uses them; never build a
person-facing sentence elsewhere. The pages' own texts live in ``api/web/i18n.py``.
"""

from __future__ import annotations

import os

LANGS = ("zh", "en")

_chosen: str | None = None

# key -> (Chinese, English); ``str.format`` fields are filled by ``t``.
CATALOGUE: dict[str, tuple[str, str]] = {
    # --- where a problem is (errors.Problem) ---
    "where_row": ("第 {row} 行", "row {row}"),
    "where_column": ("列 {column}", "column {column}"),
    "more_problems": ("……另有 {n} 个问题", "... and {n} more problems"),
    # --- importer (registries as real platforms export them) ---
    "unknown_status": (
        "未知的登记状态 {value!r}：{count} 行，首见于第 {rows} 行。可用的值：active、存续（在营、开业、在册）及其常见写法、"
        "吊销，未注销、吊销，已注销、注销、撤销、迁出、其他、歇业、清算、责令关闭（见 README）。"
        "若它是本平台的代码，请在登记库目录的 mapping.yaml 中写明其含义，例如："
        "values: {{status: {{inactive: [{value}]}}}}（或 active、注销 等）",
        "unknown registration status {value!r}: {count} rows, first in rows {rows}. Known values: active, "
        "存续（在营、开业、在册） and its usual forms, 吊销，未注销, 吊销，已注销, 注销, 撤销, 迁出, 其他, 歇业, 清算, "
        "责令关闭 (see the README). If it is your platform's code, say what it means in mapping.yaml in the "
        "registry folder, e.g. values: {{status: {{inactive: [{value}]}}}} (or active, 注销, ...)",
    ),
    "unknown_risk_class": (
        "未知的信用风险分类 {value!r}：{count} 行，首见于第 {rows} 行。可用：A–D、A类–D类、信用风险低/一般/较高/高。"
        "若是本平台的写法，请在 mapping.yaml 中写明，例如：values: {{risk_class: {{A: [{value}]}}}}",
        "unknown risk class {value!r}: {count} rows, first in rows {rows}. Known: A-D, A类-D类, "
        "信用风险低/一般/较高/高. If it is your platform's form, say so in mapping.yaml, e.g. "
        "values: {{risk_class: {{A: [{value}]}}}}",
    ),
    "unknown_entity_type": (
        "未知的市场主体类型 {value!r}：{count} 行，首见于第 {rows} 行。可用：企业、个体工商户、农民专业合作社、"
        "外国企业常驻代表机构。若是本平台的写法，请在 mapping.yaml 中写明，例如："
        "values: {{entity_type: {{企业: [{value}]}}}}",
        "unknown entity type {value!r}: {count} rows, first in rows {rows}. Known: 企业, 个体工商户, "
        "农民专业合作社, 外国企业常驻代表机构. If it is your platform's form, say so in mapping.yaml, e.g. "
        "values: {{entity_type: {{企业: [{value}]}}}}",
    ),
    "date_bad": (
        "{column} 应为日期（2026-01-05、2026/1/5、2026.1.5、2026年1月5日 或 Excel 日期单元格），实为 {value!r}",
        "{column} must be a date (2026-01-05, 2026/1/5, 2026.1.5, 2026年1月5日 or an Excel date cell), got {value!r}",
    ),
    "excel_scientific": (
        "{value!r} 是 Excel 把长号码当作数字后显示的科学计数法，原号码已丢失（{column} 列的所有号码都可能受损）。"
        "请在导出的原始数据中把该列设为“文本”格式后重新导出，不要用 Excel 打开后另存为 CSV",
        "{value!r} is how Excel shows a long number in scientific notation: the id itself is lost (every id "
        "in column {column} may be damaged). Format the column as text in the original export and export "
        "again; do not open it in Excel and save it as CSV",
    ),
    "excel_zeroed": (
        "{value!r} 在第 15 位数字之后全是 0：Excel 把长号码当作数字保存，只保留 15 位有效数字，后面的数字已丢失"
        "（{column} 列的所有长号码都是这样）。请在导出的原始数据中把该列设为“文本”格式后重新导出",
        "{value!r} has only zeros after its 15th digit: Excel stored the id as a number and kept only 15 "
        "significant digits, the rest is lost (every long number in column {column} looks like this). Format "
        "the column as text in the original export and export again",
    ),
    "mapping_header_absent": (
        "mapping.yaml 把表头 {header!r} 映射为 {column}，但 {file} 中没有这个表头",
        "mapping.yaml maps header {header!r} to {column}, but {file} has no such header",
    ),
    "mapping_unreadable": ("无法读取映射文件：{error}", "cannot read the mapping file: {error}"),
    "mapping_not_mapping": (
        "映射文件应为含 columns 和 values 的映射",
        "the mapping file must be a mapping with columns and values",
    ),
    "mapping_unknown_key": (
        "未知的键 {name!r}（只允许 columns 和 values）",
        "unknown key {name!r} (only columns and values)",
    ),
    "mapping_expected_mapping": ("{name} 应为映射", "{name} must be a mapping"),
    "mapping_unknown_table": ("未知的表 {table!r}（可用：{known}）", "unknown table {table!r} (known: {known})"),
    "mapping_unknown_column": (
        "表 {table} 没有列 {column!r}（可用：{known}）",
        "table {table} has no column {column!r} (known: {known})",
    ),
    "mapping_empty_header": ("表头为空", "the header is empty"),
    "mapping_header_twice": (
        "表头 {header!r} 同时映射为 {first} 和 {second}",
        "header {header!r} is mapped to both {first} and {second}",
    ),
    "mapping_unknown_value_column": (
        "列 {column!r} 的值不能映射（可映射：{known}）",
        "the values of column {column!r} cannot be mapped (mappable: {known})",
    ),
    "mapping_unknown_value": (
        "{column} 没有值 {value!r}（可用：{known}）",
        "{column} has no value {value!r} (known: {known})",
    ),
    "mapping_expected_list": ("应为导出值的列表，如 [K, B]", "expected a list of export values, e.g. [K, B]"),
    "mapping_empty_value": ("导出值为空", "an export value is empty"),
    "mapping_value_twice": (
        "导出值 {export!r} 同时映射为 {first} 和 {second}",
        "export value {export!r} is mapped to both {first} and {second}",
    ),
    "mapping_two_files": (
        "有两个映射文件：{files}；请只保留一个",
        "two mapping files: {files}; keep one",
    ),
    "policy_draw_status": (
        "{value!r} 不能抽取：除存续外，只有 {known} 可以由 policy.draw_statuses 选择抽取",
        "{value!r} cannot be drawn: besides the active (存续) family only {known} may be chosen in policy.draw_statuses",
    ),
    "plan_entity_type": (
        "未知的市场主体类型 {value!r}（可用：{known}）",
        "unknown entity type {value!r} (known: {known})",
    ),
    "plan_population_key": (
        "未知的总体条件（可用：region_prefix、industries、risk_classes、entity_types）",
        "unknown population key (known: region_prefix, industries, risk_classes, entity_types)",
    ),
    "frame_empty": (
        "任务 {task} 的抽取范围为空：{step} 之后一户不剩（{counts}）。请检查该任务的总体条件；"
        "确需如此时在任务中写 allow_empty: true",
        "task {task} has an empty frame: nothing is left after {step} ({counts}). Check the task's "
        "population; if this is intended, put allow_empty: true on the task",
    ),
    "step_jurisdiction": ("辖区内检查对象", "in the jurisdiction"),
    "step_not_active": ("非存续排除", "not active"),
    "step_industry": ("行业排除", "by industry"),
    "step_risk_class": ("信用风险分类排除", "by risk class"),
    "step_entity_type": ("市场主体类型排除", "by entity type"),
    "step_population": ("总体", "population"),
    "step_dedup_history": ("上级已检查排除", "dedup: inspected by a higher agency"),
    "step_dedup_plan": ("上级本期已抽排除", "dedup: drawn by a higher task"),
    "step_frequency_cap": ("检查频次上限排除", "by the frequency cap"),
    "step_eligible": ("抽取范围", "frame"),
    "summary_exclusions": (
        "各任务的抽取范围（辖区内检查对象 → 逐项排除 → 抽取范围）：",
        "per task, from the jurisdiction to the frame drawn from:",
    ),
    "gsxt_written": (
        "已按国家企业信用信息公示系统“双随机抽查结果信息”格式写出 {rows} 行：{csv}、{xlsx}",
        "{rows} rows in the layout of the national enterprise credit publicity system: {csv}, {xlsx}",
    ),
    "mapping_missing": ("映射文件 {path} 不存在", "mapping file {path} does not exist"),
    # --- command line ---
    # --- run folders and verification ---
}


def set_language(lang: str | None) -> None:
    """Choose the language for this process (``None``: back to the environment's choice)."""
    if lang is not None and lang not in LANGS:
        raise ValueError(f"language must be one of {', '.join(LANGS)}")
    global _chosen
    _chosen = lang


def language() -> str:
    """The current language: the chosen one, else RANDINSPECT_LANG, else an English locale, else zh."""
    if _chosen:
        return _chosen
    env = os.environ.get("RANDINSPECT_LANG", "").strip().lower()
    if env in LANGS:
        return env
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh"
    return "zh"


def t(key: str, lang: str | None = None, **values: object) -> str:
    """The catalogue text ``key`` in ``lang`` (default: the current language), filled with ``values``."""
    zh, en = CATALOGUE[key]
    text = en if (lang or language()) == "en" else zh
    return text.format(**values) if values else text
