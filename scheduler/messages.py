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
    "where_option": ("选项 {column}", "option {column}"),
    "where_header": ("{column}（{header}）", "{column} ({header})"),
    "where_sep": ("，", ", "),
    "clause_sep": ("；", "; "),
    "where_message": ("{where}：{message}", "{where}: {message}"),
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
    "summary_exclusion_line": ("  {task}：{counts}", "  {task}: {counts}"),
    "gsxt_written": (
        "已按国家企业信用信息公示系统“双随机抽查结果信息”格式写出 {rows} 行：{csv}、{xlsx}",
        "{rows} rows in the layout of the national enterprise credit publicity system: {csv}, {xlsx}",
    ),
    "mapping_missing": ("映射文件 {path} 不存在", "mapping file {path} does not exist"),
    # --- importer (registries as real platforms export them; importer.py) ---
    "imp_no_folder": ("名录文件夹不存在", "the registry folder does not exist"),
    "imp_table_missing": (
        "缺少必需的表 {table}（{label}）：{folder} 中没有 {table}.csv、.xlsx 或 .parquet（也没有 {label}.*）",
        "required table {table} ({label}) is missing: no {table}.csv, .xlsx or .parquet (or {label}.*) in {folder}",
    ),
    "imp_column_missing": ("缺少必需的列 {column}（{label}）", "required column {column} ({label}) is missing"),
    "imp_required_empty": ("必填项 {column} 为空", "required {column} is empty"),
    "imp_more_rows": ("……另有 {n} 行有同样的问题", "{n} more rows with the same problem"),
    "imp_duplicate": ("{column} {value!r} 重复，首次出现在第 {row} 行", "duplicate {column} {value!r}, first in row {row}"),
    "imp_more_duplicates": ("……另有 {n} 个重复的 {column}", "{n} more duplicate {column} values"),
    "imp_unknown_agency": ("未知的机构 {value!r}", "unknown agency {value!r}"),
    "imp_unknown_inspector": ("未知的检查人员 {value!r}", "unknown inspector {value!r}"),
    "imp_bool": ("{column} 应为 true 或 false（1/0、yes/no、y/n、是/否），实为 {value!r}", "{column} must be true or false (1/0, yes/no, y/n, 是/否), got {value!r}"),
    "imp_int": ("{column} 应为不小于 0 的整数，实为 {value!r}", "{column} must be a whole number of at least 0, got {value!r}"),
    "imp_number": ("{column} 应为 {low} 到 {high} 之间的数，实为 {value!r}", "{column} must be a number between {low} and {high}, got {value!r}"),
    "imp_date": ("{column} 应为日期 YYYY-MM-DD，实为 {value!r}", "{column} must be a date YYYY-MM-DD, got {value!r}"),
    "imp_not_uscc": ("不是有效的统一社会信用代码", "not a valid credit code"),
    "imp_region": ("行政区划代码应为 6 位数字（GB/T 2260），实为 {value!r}", "region code must be 6 digits (GB/T 2260), got {value!r}"),
    "imp_industry": (
        "行业代码应为 GB/T 4754 代码（门类字母 A-T 加最多 4 位数字），实为 {value!r}",
        "industry must be a GB/T 4754 code (section letter A-T and up to 4 digits), got {value!r}",
    ),
    "imp_level": (
        "层级应为 province、city、county 或 township（省/市/县/乡），实为 {value!r}",
        "level must be province, city, county or township (省/市/县/乡), got {value!r}",
    ),
    "imp_unknown_parent": ("未知的上级机构 {parent!r}", "unknown parent agency {parent!r}"),
    "imp_parent_department": (
        "上级机构 {parent!r} 属于 {theirs!r} 条线，本机构属于 {mine!r}",
        "parent {parent!r} belongs to department {theirs!r}, this agency to {mine!r}",
    ),
    "imp_parent_level": (
        "上级机构 {parent!r} 的层级为 {theirs}，不高于本机构的层级 {mine}",
        "parent {parent!r} is at level {theirs}, not above this agency's level {mine}",
    ),
    "imp_loop_item": ("{agency}（第 {row} 行）", "{agency} (row {row})"),
    "imp_loop": ("上级链条成环：{chain} -> {first}", "parent chain loops: {chain} -> {first}"),
    "imp_start_after_end": ("开始 {start} 晚于结束 {end}", "start {start} is after end {end}"),
    # --- tables as files (tables.py) and credit codes (uscc.py) ---
    "tab_two_files": ("表 {table} 有两个文件：{names}；请只保留一个", "two files for table {table}: {names}; keep one"),
    "tab_file_type": ("不支持的文件类型 {suffix!r}；请使用 .csv、.xlsx 或 .parquet", "unsupported file type {suffix!r}; use .csv, .xlsx or .parquet"),
    "tab_unreadable": ("无法读取文件：{error}", "cannot read the file: {error}"),
    "tab_no_header": ("第 {k} 列有数据但没有表头", "column {k} has values but no header"),
    "tab_two_headers": (
        "两个表头都对应列 {name}：{first!r}（第 {j} 列）和 {second!r}（第 {k} 列）",
        "two headers name column {name}: {first!r} (column {j}) and {second!r} (column {k})",
    ),
    "tab_empty": ("文件为空", "the file is empty"),
    "tab_encoding": ("文本既不是 UTF-8 也不是 GB18030/GBK 编码", "the text is neither UTF-8 nor GB18030/GBK"),
    "tab_sheet_empty": ("第一个工作表为空", "the first sheet is empty"),
    "uscc_length": ("统一社会信用代码应为 18 位，{code!r} 为 {n} 位", "a credit code has 18 characters, {code!r} has {n}"),
    "uscc_char": ("第 {pos} 位字符 {ch!r} 不允许出现在统一社会信用代码中", "character {pos} {ch!r} is not allowed in a credit code"),
    "uscc_check": (
        "{code} 的校验位为 {got!r}，按 GB 32100-2015 应为 {expected!r}",
        "check character of {code} is {got!r}, GB 32100-2015 gives {expected!r}",
    ),
    # --- command line ---
    "cmdline": ("命令行", "command line"),
    "bad_input": ("输入有误（{n} 个问题）：", "bad input ({n} problems):"),
    "bad_input_plain": ("输入有误：{error}", "bad input: {error}"),
    "bad_input_file": ("输入有误：{file}：{error}", "bad input: {file}: {error}"),
    "infeasible": ("计划无法执行：", "infeasible plan:"),
    "file_not_found": ("文件不存在", "the file does not exist"),
    "unreadable_json": ("无法读取（不是有效的 JSON）：{error}", "unreadable (not valid JSON): {error}"),
    "usage_prefix": ("用法：", "usage: "),
    "usage_error": ("{prog}：错误：{message}", "{prog}: error: {message}"),
    "positionals_title": ("位置参数", "positional arguments"),
    "optionals_title": ("选项", "options"),
    "commands_title": ("子命令", "commands"),
    "argparse_required": ("缺少必需的参数：{a0}", "the following arguments are required: {a0}"),
    "argparse_unrecognized": ("无法识别的参数：{a0}", "unrecognized arguments: {a0}"),
    "argparse_choice": ("参数 {a0}：无效的选项 {a1}（可选：{a2}）", "argument {a0}: invalid choice: {a1} (choose from {a2})"),
    "argparse_one_value": ("参数 {a0}：需要一个值", "argument {a0}: expected one argument"),
    "argparse_bad_value": ("参数 {a0}：不是有效的 {a1} 值：{a2}", "argument {a0}: invalid {a1} value: {a2}"),
    "argparse_not_with": ("参数 {a0}：不能与参数 {a1} 同时使用", "argument {a0}: not allowed with argument {a1}"),
    "argparse_ambiguous": ("选项 {a0} 不明确，可能是：{a1}", "ambiguous option: {a0} could match {a1}"),
    "argparse_argument": ("参数 {a0}：{a1}", "argument {a0}: {a1}"),
    "sum_quarter": ("{quarter} 季度，种子 {seed!r}", "quarter {quarter}, seed {seed!r}"),
    "sum_drawn": (
        "共抽取 {selected} 户企业（{tasks} 项任务，{strata} 个分层）",
        "{selected} enterprises drawn in {strata} strata of {tasks} tasks",
    ),
    "sum_visits": (
        "{visits} 次检查，检查组由抽签产生：检查人员与企业配对的最大概率 {max_p}（上限 {cap}），每人检查次数 {lo}–{hi}",
        "{visits} visits, teams drawn by lottery: max pair probability {max_p} (cap {cap}), inspector loads {lo}–{hi}",
    ),
    "sum_stages": ("各阶段用时：{stages}；合计 {total} 秒", "stages: {stages}; total {total}s"),
    "sum_warning": ("注意：{warning}", "warning: {warning}"),
    "sum_outputs": ("结果文件在 {out}：", "outputs in {out}:"),
    "sum_notices": ("{path}/（{n} 份检查通知书）", "{path}/ ({n} notices)"),
    "replaced_old": (
        "原运行文件夹（含已有记录）已整体保留为 {folder}；新运行的记录中写明了它替换的内容",
        "the old run folder (with its records) is kept whole as {folder}; the new run's record names what it replaced",
    ),
    "test_seed_note": (
        "提示：在命令行输入的种子只能产生【测试】抽取；正式抽取请先用 `randinspect commit` 公开承诺，再用 --beacon 给出公开号码",
        "note: a seed typed on the command line makes a TEST draw; a public draw uses `randinspect commit` and --beacon",
    ),
    "audit_head": ("审计记录末条哈希：{head}", "audit record head: {head}"),
    "need_beacon": ("正式抽取需要公开号码（--beacon）", "a committed plan needs the public numbers"),
    "need_seed": (
        "请给出 --seed（测试抽取），或 --commitment 和 --beacon（正式抽取）",
        "give --seed (a test draw) or --commitment and --beacon",
    ),
    "commit_out_exists": (
        "承诺文件夹必须是新的或空的文件夹（这里已有文件，未作任何改动）",
        "the commitment folder must be new or empty (files are there; nothing was touched)",
    ),
    "commit_done": ("承诺哈希 {commitment}", "commitment {commitment}"),
    "commit_next": (
        "请立即公布该哈希；待 {source} 的号码公开后，运行：",
        "publish it now; after the source's numbers ({source}) are public, run:",
    ),
    "bad_credit_code": ("统一社会信用代码 {code!r} 无效：{why}", "invalid credit code {code!r}: {why}"),
    "bad_threshold": ("阈值应为 64 位十六进制数，{value!r} 不是", "a threshold has 64 hex digits; {value!r} does not"),
    "unknown_task": ("没有任务 {task!r}；本次抽取的任务：{known}", "no task {task!r}; the draw's tasks: {known}"),
    "unknown_stratum": ("任务 {task} 中没有分层 {stratum!r}", "task {task} has no stratum {stratum!r}"),
    "need_seed_or_folder": ("请给出种子（--seed），或已公示的结果文件夹", "give the seed, or the published output folder"),
    "ticket_is": ("签号 = SHA-256({seed}|{task}|{code}) = {ticket}", "ticket = SHA-256({seed}|{task}|{code}) = {ticket}"),
    "no_threshold": (
        "没有可比较的分层阈值（请同时给出结果文件夹和 --stratum，或给出 --threshold）",
        "no stratum threshold to compare with (give --stratum with the output folder, or --threshold)",
    ),
    "verdict_key_area": ("抽中（重点领域企业全部检查）", "drawn (key-area enterprises are all drawn)"),
    "verdict_none_drawn": ("未抽中（该分层未抽取任何企业）", "not drawn (nothing drawn in this stratum)"),
    "verdict_drawn": ("抽中", "drawn"),
    "verdict_not_drawn": ("未抽中", "not drawn"),
    "ticket_stratum": (
        "分层 {stratum}：阈值 {threshold} → 如果企业属于该分层：{verdict}",
        "stratum {stratum}: threshold {threshold} -> if you are in this stratum: {verdict}",
    ),
    "test_seed_publication": ("提示：这是【测试】种子——事先没有任何公开承诺锁定它", "note: a TEST seed — nothing public fixed it in advance"),
    "pub_ticket_above": (
        "{task}/{code}：公示为随机抽中，但其签号 {ticket}… 高于该任务所有分层的阈值",
        "{task}/{code}: published as drawn at random, but its ticket {ticket}… is above every threshold of the task",
    ),
    "pub_key_count": (
        "{task}：公示重点领域 {published} 户，分层表中为 {expected} 户",
        "{task}: {published} key-area rows published, the key-area stratum has {expected}",
    ),
    "pub_random_count": (
        "{task}：公示随机抽中 {published} 户，分层表中为 {expected} 户",
        "{task}: {published} randomly drawn rows published, the strata drew {expected}",
    ),
    "pub_not_ok": ("公示内容核对不通过", "PUBLICATION DOES NOT CHECK OUT"),
    "pub_seed_derived": ("种子由承诺和公开号码推出", "seed derived from the commitment"),
    "pub_seed_given": ("种子如所给", "seed as given"),
    "pub_ok": (
        "公示内容核对通过：{how}；{tasks} 项任务的 {rows} 行公示与分层表一致，每户随机抽中企业的签号均已重算",
        "publication checks out: {how}, {rows} published rows in {tasks} tasks match the strata, every random draw's ticket recomputed",
    ),
    "recusal_moved": ("，日期由 {before} 改为 {after}", ", moved from {before} to {after}"),
    "recusal_done": (
        "回避 #{seq}：{inspector} 退出检查 {visit}；从 {candidates} 名候选人中抽中 {replacement}{moved}",
        "recusal #{seq}: {inspector} leaves visit {visit}; {replacement} drawn among {candidates} candidates{moved}",
    ),
    "no_such_inspector": ("本计划中没有检查人员 {inspector!r}", "no inspector {inspector!r} in this plan"),
    "absent_no_visit": ("{inspector} 在该期间没有检查任务", "{inspector} has no visit in that period"),
    "result_recorded": ("{visit}：已记录结果“{category}”", "{visit}: {category} recorded"),
    "published": ("{day} 公示 {n} 条结果，见 {path}", "{n} results published on {day} in {path}"),
    "overdue_row": ("{visit}\t检查日期 {date}\t应公示日期 {due}\t{state}", "{visit}\tvisited {date}\tdue {due}\t{state}"),
    "overdue_total": (
        "截至 {day}，共 {n} 条结果逾期未公示（检查后 20 个工作日内应公示）",
        "{n} results overdue on {day} (publication is due within 20 working days of the visit)",
    ),
    "audit_ok": ("审计记录完好：共 {count} 条，末条哈希 {head}", "audit record intact: {count} records, head {head}"),
    "audit_broken": ("审计记录有问题：{message}", "AUDIT RECORD BROKEN: {message}"),
    "bad_head": ("末条哈希应为 64 位十六进制数，{value!r} 不是", "a head hash has 64 hex digits; {value!r} does not"),
    "not_verified": ("核验不通过", "NOT VERIFIED"),
    "seed_kind_test": ("测试", "test"),
    "seed_kind_public": ("正式", "public"),
    "verified": (
        "核验通过：用{kind}种子 {seed!r} {recusals}重新运行，{outputs} 个结果文件逐字节一致；{ledger}审计记录完好（{records} 条）",
        "verified: re-running {kind} seed {seed!r}{recusals} reproduces all {outputs} output files byte for byte; {ledger}audit record intact ({records} records)",
    ),
    "verified_recusals": ("并重放 {n} 条回避记录", " and {n} recorded recusals"),
    "verified_ledger": ("{files} 与审计记录中的哈希一致；", "{files} match the hashes in the audit record; "),
    "bad_port": ("端口应在 1–65535 之间，{port} 不是", "a port is 1–65535, {port} is not"),
    "bad_workers": ("工作进程数至少为 1，{workers} 不是", "workers must be at least 1, {workers} is not"),
    "bad_host": ("无法解析主机 {host!r}：{error}", "cannot resolve host {host!r}: {error}"),
    "port_busy": ("{host}:{port} 已被占用或无法使用（{error}）；请换一个 --port", "{host}:{port} is busy or unusable ({error}); choose another --port"),
    "serve_on": ("randinspect 服务已在 {base}/api 启动（数据库 {database}）", "randinspect service on {base}/api (database {database})"),
    "serve_docs": ("接口文档：{base}/docs", "API documentation: {base}/docs"),
    "demo_load_failed": ("demo --load 失败：{error}", "demo --load failed: {error}"),
    "generated": ("名录和计划已写入 {path}", "registry and plan written to {path}"),
    # help texts
    "h_help": ("显示帮助并退出", "show this help and exit"),
    "h_description": ("“双随机、一公开”抽查计划：抽取企业、随机选派检查人员、公示", "双随机、一公开 inspection planning"),
    "h_lang": ("信息语言：zh（中文，默认）或 en（英文）", "language of the messages: zh (Chinese, default) or en"),
    "h_demo": ("用自带的示例县完整运行一遍", "run the whole job on the bundled sample county"),
    "h_demo_load": (
        "改为把示例县、计划、一次已完成的抽取及其公示载入服务的数据库（RANDINSPECT_DATABASE_URL，默认 ./randinspect.db）；再次运行不重复载入",
        "instead, load the sample county, its plan, a finished draw and its publication into the service's "
        "database (RANDINSPECT_DATABASE_URL, default ./randinspect.db); a second run loads nothing",
    ),
    "h_out": (
        "输出文件夹：新文件夹、空文件夹或已有的运行文件夹（其他已有路径一律拒绝）",
        "output folder: new, empty, or an existing run folder (any other existing path is refused)",
    ),
    "h_replace": (
        "替换已有回避、结果或公示记录的运行文件夹：原文件夹改名为 NAME.replaced-时间 保留，不删除",
        "replace a run folder holding recusals, results or publications: the old one is kept as NAME.replaced-TIME, never deleted",
    ),
    "h_executor": (
        "各独立部分在哪里运行：local（默认）、processes[:N]（多进程）、dask://主机:端口（Dask 集群）或 dask（地址取自 $RANDINSPECT_DASK_SCHEDULER）；默认取 $RANDINSPECT_EXECUTOR。无论选哪种，输出逐字节相同",
        "where the independent parts run: local (default), processes[:N] (worker processes), "
        "dask://HOST:PORT (a Dask cluster), or dask (address from $RANDINSPECT_DASK_SCHEDULER); "
        "default $RANDINSPECT_EXECUTOR. The outputs are the same bytes whatever is chosen",
    ),
    "h_plan": ("抽取、派员并排定季度计划", "draw, staff and schedule a quarterly plan"),
    "h_registry": ("名录文件夹（企业、检查人员、机构等表）", "registry folder (enterprises, inspectors, agencies, ...)"),
    "h_plan_file": ("计划文件（plan.yaml）", "the plan file (plan.yaml)"),
    "h_seed": ("测试种子（抽取将标记为测试）", "a test seed (the draw is then marked test)"),
    "h_commitment": ("由 `randinspect commit` 生成的 commitment.json", "commitment.json made by `randinspect commit`"),
    "h_beacon": ("公开号码，如 '3 11 17 22 28 31; 9'（多个来源用 ; 分隔）", "the public numbers, e.g. '3 11 17 22 28 31; 9' (sources split by ;)"),
    "h_keep_order": ("号码的顺序有意义（不是集合）", "the numbers' order matters (not a set)"),
    "h_calendar": ("工作日历文件（用于软件包未收录的年份）", "working-day calendar file for years the package lacks"),
    "h_commit": ("在公开号码产生之前承诺输入", "commit to the inputs before the public numbers exist"),
    "h_source": ("事先指定的公开随机来源，如某期彩票开奖号码", "the public randomness named in advance, e.g. a lottery draw"),
    "h_commit_out": ("写入 commitment.json 的新文件夹", "new folder for commitment.json"),
    "h_check_ticket": ("用公开数据核对一户企业是否被抽中", "check one enterprise's draw from public data"),
    "h_published_folder": ("已公示的结果文件夹（strata.csv、manifest.json）", "published output folder (strata.csv, manifest.json)"),
    "h_task": ("任务编号", "task id"),
    "h_credit_code": ("统一社会信用代码（18 位）", "unified social credit code (18 characters)"),
    "h_ticket_seed": ("种子（不给结果文件夹时）", "the seed (without the output folder)"),
    "h_stratum": ("分层", "stratum"),
    "h_threshold": ("分层阈值（64 位十六进制）", "the stratum's threshold (64 hex digits)"),
    "h_check_publication": ("只用公示文件核对：种子、签号、户数", "check the published files alone: seed, tickets, counts"),
    "h_recuse": ("检查人员回避：退出一次检查并抽取替补", "remove an inspector from a visit (回避) and draw the replacement"),
    "h_run_folder": ("运行文件夹", "run folder"),
    "h_visit": ("检查编号（visit_id）", "visit id"),
    "h_inspector": ("检查人员编号", "inspector id"),
    "h_by": ("申请方：enterprise（企业）、inspector（检查人员）、bureau（局）", "who asks: enterprise, inspector or bureau"),
    "h_reason": ("理由", "reason"),
    "h_absent": ("检查人员因病等缺勤：替换其在该期间的全部检查", "an inspector falls ill: replace them on every visit in a period"),
    "h_date_from": ("开始日期，如 2026-03-20、2026/03/20、2026年3月20日", "first day, e.g. 2026-03-20, 2026/03/20, 2026年3月20日"),
    "h_date_to": ("结束日期（含），格式同上；不给则不限", "last day (inclusive), same forms; open if not given"),
    "h_result": ("录入一次检查的结果", "record a visit's result"),
    "h_category": ("结果类别（标准类别之一）", "result category (one of the standard ones)"),
    "h_note": ("备注", "note"),
    "h_publish": ("公示已录入的结果", "publish entered results"),
    "h_publish_visit": ("只公示这次检查（可重复）", "publish only this visit (repeatable)"),
    "h_publish_date": ("公示日期（默认今天）", "publication date (default today)"),
    "h_overdue": ("列出 20 个工作日内未公示的结果", "results not published within 20 working days"),
    "h_today": ("以这一天为今天（默认今天）", "take this day as today (default today)"),
    "h_audit": ("防篡改的全过程记录", "the tamper-evident record"),
    "h_audit_verify": ("校验哈希链；指出第一条有问题的记录", "check the hash chain; name the first bad record"),
    "h_head": ("已公布的末条哈希（可发现末尾被删的记录）", "the published head hash (detects a dropped last record)"),
    "h_verify": (
        "核验运行文件夹的每个文件：重新运行比对结果，并按审计记录核对之后的改动；全部一致才返回 0",
        "check every file of a run: re-run and compare, later changes against the record; exit 0 only if all match",
    ),
    "h_verify_registry": (
        "输入文件（名录、计划、日历）所在的文件夹，按文件名和哈希查找（在另一台电脑上核验时使用）",
        "folder holding the inputs (registry, plan, calendar), found by name and hash (to verify on another machine)",
    ),
    "h_generate": ("生成合成的名录和计划", "write a synthetic registry and plan"),
    "h_serve": ("运行网络服务（接口及 /docs 文档）", "run the web service (API and its documentation at /docs)"),
    "h_host": ("监听地址", "address to listen on"),
    "h_port": ("端口", "port"),
    "h_workers": ("工作进程数", "worker processes"),
    "h_user": ("服务账户（计划员和审计员）", "service accounts (planners and auditors)"),
    "h_user_add": ("创建用户（密码输入两次，或从标准输入读取）", "create a user (the password is asked twice, or read from stdin)"),
    "h_user_name": ("用户名", "user name"),
    "h_role": ("角色", "role"),
    "h_password_stdin": ("从标准输入的第一行读取密码", "read the password from the first line of stdin"),
    # --- the audit record (audit.py): why a record does not verify ---
    "audit_seq_not_int": ("seq {seq!r} 不是整数", "seq {seq!r} is not a whole number"),
    "audit_time_form": ("time {time!r} 不是形如 2026-11-23T03:50:00Z 的 ISO 8601 UTC 时间", "time {time!r} is not ISO 8601 UTC like 2026-11-23T03:50:00Z"),
    "audit_time_real": ("time {time!r} 不是真实存在的日期时间", "time {time!r} is not a real date and time"),
    "audit_kind": ("kind {kind!r} 不是以下之一：{kinds}", "kind {kind!r} is not one of {kinds}"),
    "audit_actor": ("actor {actor!r} 不是字符串", "actor {actor!r} is not a string"),
    "audit_data": ("data 不是 JSON 对象", "data is not a JSON object"),
    "audit_prev": ("prev 不是 64 位小写十六进制数", "prev is not 64 lowercase hex digits"),
    "audit_truncated_complete": ("这一行是完整的 JSON，但末尾没有换行", "it is complete JSON but has no newline at its end"),
    "audit_truncated_middle": ("这一行在记录中间中断，末尾没有换行", "it stops in the middle of a record and has no newline at its end"),
    "audit_truncated": ("第 {index} 条记录：最后一行不完整（{what}）", "record {index}: the last line is truncated ({what})"),
    "audit_not_utf8": ("第 {index} 条记录：第 {line} 行不是有效的 UTF-8", "record {index}: line {line} is not valid UTF-8"),
    "audit_empty_line": ("空行", "an empty line"),
    "audit_not_json": ("不是有效的 JSON", "not valid JSON"),
    "audit_bad_line": ("第 {index} 条记录：第 {line} 行是{what}", "record {index}: line {line} is {what}"),
    "audit_not_record": (
        "第 {index} 条记录：不是审计记录（键应为 {keys}，实为 {found}）",
        "record {index}: not a log record (keys must be {keys}, found {found})",
    ),
    "audit_not_canonical": (
        "第 {index} 条记录已被改动：第 {line} 行不是规范写法（多余的空白、转义或键的顺序与记录写入时不同）",
        "record {index} was altered: line {line} is not written in canonical form "
        "(extra whitespace, escapes or key order differ from what the log writes)",
    ),
    "audit_hash_mismatch": ("第 {index} 条记录已被改动：哈希与内容不符", "record {index} was altered: its hash does not match its content"),
    "audit_invalid_record": ("第 {index} 条记录不是有效记录：{problem}", "record {index} is not a valid record: {problem}"),
    "audit_link_broken": (
        "第 {index} 条记录：与上一条的哈希链断开（之前的某条记录被删除、调换或改动）",
        "record {index}: previous-hash link broken (a record before it was removed, reordered or altered)",
    ),
    "audit_bad_seq": (
        "第 {index} 条记录：序号为 {seq}，应为 {index}（之前的某条记录被删除、调换或改动）",
        "record {index}: sequence number is {seq}, expected {index} (a record before it was removed, reordered or altered)",
    ),
    "audit_ok_records": ("完好：共 {n} 条记录，末条哈希 {head}", "ok: {n} records, head {head}"),
    "audit_ok_empty": ("完好：空记录（0 条）", "ok: empty log (0 records)"),
    "audit_ends_at": ("记录止于第 {last} 条（哈希 {head}）", "the log ends at record {last} (hash {head})"),
    "audit_ends_empty": ("记录为空", "the log is empty"),
    "audit_record_n": ("第 {n} 条记录", "record {n}"),
    "audit_the_empty_log": ("空记录", "the empty log"),
    "audit_the_start": ("开头", "the start"),
    "audit_added": (
        "{ends}，但公布的末条哈希为 {head}，即{which}的哈希：第 {first} 至 {last} 条记录是公布之后添加的",
        "{ends} but the published head is {head}, the hash of {which}: records {first} to {last} were added after publication",
    ),
    "audit_removed": (
        "{ends}，但公布的末条哈希为 {head}，没有任何记录具有该哈希：{after}之后的记录被删除了（或该哈希属于另一份记录）",
        "{ends} but the published head is {head}, which no record has: records after {after} were removed (or the head belongs to another log)",
    ),
    # --- seeds and commitments (seed.py) ---
    "beacon_empty": ("公开号码为空", "the beacon has no numbers"),
    "beacon_not_numbers": ("公开号码 {source!r}：应为以空格分隔的整数", "beacon source {source!r}: whole numbers separated by spaces expected"),
    "commit_bad_format": ("不是 randinspect 承诺文件（{format!r}）", "not a randinspect commitment ({format!r})"),
    "commit_bad_hash": ("承诺文件与其自身的承诺哈希不符", "the document does not match its own commitment hash"),
    "commit_table_extra": ("表 {table} 不在承诺中", "table {table} was not in the commitment"),
    "commit_changed": ("承诺之后被改动", "changed since the commitment"),
    "commit_table_missing": ("承诺过的表 {table} 现在缺失", "committed table {table} is missing now"),
    # --- results (results.py, runfolder.py) ---
    "unknown_category": ("未知的结果类别 {category!r}；应为其中之一：{allowed}", "unknown result category {category!r}; one of: {allowed}"),
    "state_no_result": ("未录入结果", "no result"),
    "state_not_published": ("结果未公示", "result not published"),
    "state_published_late": ("{day} 逾期公示", "published late on {day}"),
    "result_final": ("{visit} 的结果已于 {day} 公示，不能再修改", "the result of {visit} was published on {day}; it cannot be changed"),
    "result_not_entered": ("{visit}：尚未录入结果", "{visit}: no result entered yet"),
    # --- recusals (recusal.py) ---
    "recusal_where": ("回避申请", "recusal"),
    "recusal_by": ("应为其中之一：{allowed}", "must be one of {allowed}"),
    "recusal_reason": ("回避申请需要写明理由", "a recusal needs a reason"),
    "recusal_not_on_team": ("{inspector!r} 不在检查 {visit} 的检查组中", "{inspector!r} is not on visit {visit}'s team"),
    "recusal_specialty": ("一名具备 {specialty} 专长的检查人员", "a {specialty} inspector"),
    "recusal_any": ("一名检查人员", "an inspector"),
    "recusal_department": ("{what}（{department} 条线）", "{what} of department {department}"),
    "recusal_none_free": (
        "有 {n} 名符合条件且尚有余量的人员，但没有人在检查组其他成员都有空的日子有空",
        "{n} eligible with capacity left, none free on a day the rest of the team is",
    ),
    "recusal_no_capacity": (
        "没有其他符合条件的人员尚有余量（共 {eligible} 名符合条件，{blocked} 名已在组内或已回避）",
        "no other eligible inspector has capacity left ({eligible} eligible in all, {blocked} on the team or recused)",
    ),
    "recusal_infeasible": (
        "{tasks}：检查 {visit} 需要{what}，在 {start} 至 {end} 之间替换 {inspector}；{why}",
        "{tasks}: visit {visit} needs {what} to replace {inspector} between {start} and {end}; {why}",
    ),
    # --- the plan file (plan.py) ---
    "plan_quarter": ("季度应写作 2026Q1 的形式，实为 {value!r}", "quarter must look like 2026Q1, got {value!r}"),
    "plan_not_date": ("不是日期（YYYY-MM-DD）：{value!r}", "not a date (YYYY-MM-DD): {value!r}"),
    "plan_not_int": ("不是整数：{value!r}", "not a whole number: {value!r}"),
    "plan_at_least": ("至少为 {minimum}，实为 {value}", "must be at least {minimum}, got {value}"),
    "plan_not_list": ("应为列表，实为 {value!r}", "expected a list, got {value!r}"),
    "plan_unreadable": ("无法读取计划文件：{error}", "cannot read plan file: {error}"),
    "plan_not_yaml": ("不是有效的 YAML/JSON：{error}", "not valid YAML/JSON: {error}"),
    "plan_not_mapping": ("计划应为包含 quarter、policy、tasks 的映射", "the plan must be a mapping with quarter, policy, tasks"),
    "plan_expected_mapping": ("应为映射（键: 值）", "expected a mapping"),
    "plan_unknown_policy_key": ("未知的 policy 键（已知：{known}）", "unknown policy key (known: {known})"),
    "plan_not_bool": ("应为 true 或 false，实为 {value!r}", "expected true or false, got {value!r}"),
    "plan_not_probability": ("应为 (0, 1] 之间的数，实为 {value!r}", "expected a number in (0, 1], got {value!r}"),
    "plan_no_tasks": ("计划需要一个非空的任务列表", "the plan needs a non-empty list of tasks"),
    "plan_unknown_task_key": ("未知的任务键（已知：{known}）", "unknown task key (known: {known})"),
    "plan_missing": ("缺失", "missing"),
    "plan_duplicate_task": ("task_id {task!r} 重复", "duplicate task_id {task!r}"),
    "plan_task_pipe": ("不能包含 '|'", "must not contain '|'"),
    "plan_staffing": ("应为 'lead'、'local' 或 'delegated'，实为 {value!r}", "must be 'lead', 'local' or 'delegated', got {value!r}"),
    "plan_window_form": ("应为 {{start: ..., end: ...}}", "expected {{start: ..., end: ...}}"),
    "plan_window_reversed": ("开始 {start} 晚于结束 {end}", "start {start} is after end {end}"),
    "plan_risk_class_got": ("风险分类应为 A、B、C 或 D，实为 {value!r}", "risk class must be A, B, C or D, got {value!r}"),
    "plan_risk_class": ("风险分类应为 A、B、C 或 D", "risk class must be A, B, C or D"),
    "plan_digits": ("应为数字，实为 {value!r}", "digits expected, got {value!r}"),
    "plan_ratio_and_count": ("ratio 和 count 只能给一个", "give either ratio or count, not both"),
    "plan_ratio_form": ("应为形如 {{A: 0.02, B: 0.05}} 的映射", "expected a mapping like {{A: 0.02, B: 0.05}}"),
    "plan_not_fraction": ("应为 0 到 1 之间的数，实为 {value!r}", "expected a number between 0 and 1, got {value!r}"),
    "plan_needs_size": ("需要 ratio（按风险分类）或 count", "needs a ratio (per risk class) or a count"),
    "plan_unknown_agency": ("未知的机构 {agency!r}", "unknown agency {agency!r}"),
    "plan_joint_same_department": (
        "{agency!r} 属于 {department!r} 条线，已在检查组中；联合机构应带来另一个条线",
        "{agency!r} is of department {department!r}, already on the team; a joint agency brings another department",
    ),
    "plan_unknown_item": ("未知的检查事项 {item!r}", "unknown item {item!r}"),
    "plan_no_items_table": ("未知的检查事项 {item!r}：名录中没有检查事项表", "unknown item {item!r}: the registry has no items table"),
    "plan_outside_jurisdiction": (
        "{prefix!r} 不在 {agency} 的辖区内（辖区代码前缀 {lead_prefix!r}）",
        "{prefix!r} lies outside the jurisdiction of {agency} (region prefix {lead_prefix!r})",
    ),
    # --- staffing, dates and visits: why a plan is infeasible (staffing.py, pipeline.py, visits.py) ---
    "list_sep": ("，", ", "),
    "excluded_n": ("{n} 人{why}", "{n} {why}"),
    "excluded_certificate": ("无执法证或非辅助人员", "no certificate or auxiliary"),
    "excluded_conflict": ("已申报利害关系", "declared conflict"),
    "excluded_former_employer": ("曾在该企业任职", "former employer"),
    "excluded_relative": ("是法定代表人的亲属", "relative of the legal representative"),
    "excluded_rotation": ("回看期内检查过该企业（轮换）", "inspected it within the lookback (rotation)"),
    "excluded_availability": ("期间休假或执法证到期", "on leave or certificate expiring in the window"),
    "excluded_cap": ("本季度已无余量", "no capacity left this quarter"),
    "excluded_without": ("{n} 人符合其他条件但不具备 {specialty} 专长", "{n} eligible but without {specialty}"),
    "excluded_no_agency": ("允许的机构中没有检查人员", "nobody works for the allowed agencies"),
    "staffing_none_eligible": (
        "{tasks}：{n} 次检查需要{what}（{start} 至 {end}）；符合条件的为 0 人（例如检查 {visit}，{code}：{why}）",
        "{tasks}: {n} visit(s) need {what} between {start} and {end}; 0 are eligible (e.g. visit {visit}, {code}: {why})",
    ),
    "staffing_capacity": (
        "{task}：{n} 次检查需要{what}（{start} 至 {end}）；排除利害关系和休假后符合条件的有 {pool} 人，容量 capacity {capacity}",
        "{task}: {n} visits need {what} between {start} and {end}; {pool} eligible after conflicts and leave, capacity {capacity}",
    ),
    "staffing_capacity_places": (
        "{task}：{n} 个检查组席位需要填补（{start} 至 {end}）；排除利害关系和休假后符合条件的有 {pool} 人，容量 capacity {capacity}",
        "{task}: {n} team places to fill between {start} and {end}; {pool} eligible after conflicts and leave, capacity {capacity}",
    ),
    "staffing_part_caps": (
        "{tasks}：自 {label} 起的检查共用同一批检查人员，需填补 {need} 个检查组席位（team_size {team_size}），"
        "但季度和每日上限最多只能填补 {routed} 个",
        "{tasks}: {need} team places to fill by the inspectors the visits from {label} share "
        "(team_size {team_size}), but the quarterly and daily caps allow at most {routed} of them to be filled",
    ),
    "staffing_pool": (
        "{task}：{n} 次检查需要{what}（{start} 至 {end}）；排除休假和证件失效后符合条件的有 {pool} 人，容量 capacity {capacity}",
        "{task}: {n} visits need {what} between {start} and {end}; {pool} eligible after leave and certificates, capacity {capacity}",
    ),
    "staffing_pool_places": (
        "{task}：{n} 个检查组席位需要填补（{start} 至 {end}）；排除休假和证件失效后符合条件的有 {pool} 人，容量 capacity {capacity}",
        "{task}: {n} team places to fill between {start} and {end}; {pool} eligible after leave and certificates, capacity {capacity}",
    ),
    "staffing_where_region": ("区划 {region} 内", "in region {region}"),
    "staffing_where_from": ("自检查 {visit} 起", "from visit {visit} on"),
    "staffing_split": (
        "{tasks}：{where}的 {n} 次检查需要{what}；排除利害关系和休假后符合条件的有 {pool} 人，容量 capacity {capacity}，"
        "但与其他区划共用的检查人员最多只能给它们 {routed} 次（共用人员的容量按各区划的席位由流量模型分配）",
        "{tasks}: {n} visits {where} need {what}; {pool} are eligible after conflicts and leave, capacity {capacity}, "
        "but the inspectors they share with other regions can give them at most {routed} "
        "(shared inspectors' capacity split by a flow on every region's places)",
    ),
    "staffing_caps": (
        "派员：需填补 {need} 个检查组席位（team_size {team_size}），但季度和每日上限最多只能填补 {routed} 个",
        "staffing: {need} team places to fill (team_size {team_size}), but the quarterly and daily caps allow at most {routed} of them to be filled",
    ),
    "dates_no_common_day": ("{tasks}：检查 {visit} 的检查组没有共同的可用工作日", "{tasks}: visit {visit}: its team shares no available working day"),
    "dates_no_schedule": (
        "排期：找不到让每名检查人员都在每日上限内、且全组都有空的日程（求解状态 {status}；自检查 {visit} 起）",
        "dates: no schedule keeps every inspector within the daily cap on days the whole team is available (solver status {status}; visits from {visit})",
    ),
    "visits_windows": (
        "{code}：任务 {tasks} 都抽中了它，但检查时段不重叠，需要 {n} 次检查；max_visits_per_enterprise 只允许再检查 {allowed} 次",
        "{code}: tasks {tasks} drew it but their windows do not overlap, so it needs {n} visits; max_visits_per_enterprise allows {allowed} more",
    ),
    "pairs_over_cap": (
        "{n} 组检查人员与企业的配对概率超过 pair_probability_cap {cap}：以下检查符合条件的人员太少：{visits}（最大配对概率 {max_p}）",
        "{n} inspector-enterprise pairs exceed pair_probability_cap {cap}: too few eligible inspectors for visits {visits} (max pair probability {max_p})",
    ),
    # --- working days (workdays.py) ---
    "calendar_where": ("工作日历", "calendar"),
    "calendar_missing_year": (
        "没有 {year} 年的工作日历：chinese-calendar 软件包只包含 {lo}–{hi} 年；请用 --calendar FILE 给出日历文件"
        "（CSV，列 date、kind；kind 为 workday 或 holiday）列出 {year} 年的法定节假日和调休上班日",
        "no working-day calendar for {year}: the chinese-calendar package covers {lo}-{hi}; "
        "pass --calendar FILE (CSV with columns date,kind; kind workday or holiday) listing "
        "{year}'s public holidays and 调休 make-up working days",
    ),
    "column_missing": ("缺少必需的列", "required column missing"),
    "calendar_bad_kind": ("应为 workday（上班）或 holiday（休息），实为 {kind!r}", "expected workday or holiday, got {kind!r}"),
    # --- dates ---
    "bad_date": ("日期 {value!r} 无法识别；可用的写法：{forms}", "date {value!r} not understood; accepted forms: {forms}"),
    "reversed_range": ("结束日期 {end} 早于开始日期 {start}", "the end {end} is before the start {start}"),
    # --- command line: accounts, agencies, mapping and gsxt (issues 10, 11) ---
    "h_accounts": (
        "与 --load 一起使用：另建省、市、县各一个各角色的演示账户（随机密码，只显示一次）",
        "with --load: also create a province, a city and a county account of each role (random passwords, printed once)",
    ),
    "accounts_needs_load": ("--accounts 须与 --load 一起使用", "--accounts goes with --load"),
    "h_mapping": (
        "名录的映射文件（导出的表头和取值 → 本系统的列和取值）；默认为名录文件夹中的 mapping.yaml。计入清单和承诺",
        "the registry's mapping file (export headers and values -> the contract's); default: mapping.yaml in the "
        "registry folder. Hashed into the manifest and the commitment",
    ),
    "h_format": (
        "gsxt：另按国家企业信用信息公示系统的格式写出结果（results_gsxt.csv 和 .xlsx，每户次每事项一行）",
        "gsxt: also write the results in the layout of the national enterprise credit publicity system "
        "(results_gsxt.csv and .xlsx, one row per visit and item)",
    ),
    "h_agency": ("账户所属机构（机构库中的 agency_id）", "the account's agency (an agency_id of the agency tree)"),
    "h_user_disable": ("停用账户（其令牌作废）", "disable a user (its tokens are revoked)"),
    "h_user_password": ("设置账户密码（其令牌作废）", "set a user's password (its tokens are revoked)"),
    "h_agencies": ("服务的机构库", "the service's agency tree (机构库)"),
    "h_agencies_load": ("从机构表（名录格式）新增或更新机构", "add or update agencies from an agencies table (registry format)"),
    "h_agencies_file": ("机构表文件", "the agencies table"),
    "h_agencies_adopt": (
        "把机构库建立之前的数据（无机构）交给一个机构",
        "give data made before the agency tree (no agency) to an agency",
    ),
    "h_agency_id": ("机构编码", "the agency's id"),
    "pw_prompt": ("密码（至少 12 个字符）：", "password (at least 12 characters): "),
    "pw_again": ("再次输入同一密码：", "the same password again: "),
    "pw_differ": ("两次输入的密码不同", "the two passwords differ"),
    "pw_nul": ("密码不能包含 NUL 字符", "a password cannot contain NUL"),
    "user_name_bad": ("用户名为 1 至 64 个可打印字符", "a user name has 1 to 64 printable characters"),
    "agency_not_in_tree": ("机构 {agency!r} 不在机构库中", "agency {agency!r} is not in the agency tree"),
    "agency_not_in_tree_load": (
        "机构 {agency!r} 不在机构库中（请先载入：randinspect agencies load agencies.csv）",
        "agency {agency!r} is not in the agency tree (load it first: randinspect agencies load agencies.csv)",
    ),
    "user_exists": ("用户 {name!r} 已存在", "user {name!r} exists"),
    "no_user": ("没有用户 {name!r}", "no user {name!r}"),
    "user_created": (
        "已在 {db} 中为 {agency} 创建 {role} 账户 {name!r}；登录：POST /api/login",
        "{role} {name!r} of {agency} created in {db}; sign in at POST /api/login",
    ),
    "user_disabled": ("已在 {db} 中停用 {name!r}，其令牌已作废", "{name!r} disabled in {db}; its tokens are revoked"),
    "user_password_set": ("已在 {db} 中设置 {name!r} 的密码，其令牌已作废", "password of {name!r} set in {db}; its tokens are revoked"),
    "tree_loaded": (
        "{db} 中的机构库：新增 {added} 个，更新 {updated} 个，共 {total} 个机构",
        "agency tree in {db}: {added} added, {updated} updated, {total} agencies",
    ),
    "adopted": ("已在 {db} 中交给 {agency}：{counts}", "given to {agency} in {db}: {counts}"),
    # --- run folders and verification ---
    "input_changed": ("{name} 找到了，但内容与运行时不同", "{name} was found but has changed since the run"),
    "input_not_found": (
        "找不到 {name}（在运行文件夹旁和 --registry 给出的文件夹中按文件名查找）",
        "{name} not found (looked beside the run and in the --registry folder)",
    ),
    "input_problem": ("输入 {table}：{why}", "input {table}: {why}"),
    "inputs_scattered": ("名录各表应在同一个文件夹中，却分别在：{folders}", "the registry's tables should be in one folder, found in: {folders}"),
    "no_such_visit": ("本计划中没有检查 {visit!r}", "no visit {visit!r} in this plan"),
    "verify_commitment_hash": ("commitment：承诺文件与其哈希不符", "commitment: the document does not match its hash"),
    "verify_seed_not_derived": ("种子不是由承诺和公开号码推出的那个", "seed: not the one derived from the commitment and the public numbers"),
    "verify_no_record": ("{name}：缺少审计记录", "{name}: the audit record is missing"),
    "verify_not_recorded": ("{name}：审计记录中没有写入它的记录", "{name}: no record in the audit record wrote it"),
    "verify_changed_after": ("{name}：写入后被改动（与审计记录中的哈希不符）", "{name}: changed after it was written (differs from the hash in the audit record)"),
    "verify_no_draw_record": ("{name}：没有抽取记录", "{name}: there is no draw record"),
    "verify_rerun": ("重新运行：{diff}", "re-run: {diff}"),
    "out_not_a_run": (
        "这里已有文件，但不是 randinspect 的运行文件夹（没有 manifest.json）：{files}；请换一个新的输出文件夹，原有文件未作任何改动",
        "this path exists and is not a randinspect run folder (no manifest.json): {files}; choose a new output folder — nothing was touched",
    ),
    "out_needs_replace": (
        "这是一个已有记录的运行文件夹（{what}）；如确要重新抽取，请加 --replace：原文件夹将整体改名保留在旁边，不会删除",
        "this run folder holds records ({what}); to draw again give --replace: the old folder is moved aside whole, never deleted",
    ),
    "out_holds_recusals": ("已有回避记录", "recusals"),
    "out_holds_results": ("已录入检查结果", "entered results"),
    "out_holds_publications": ("已公示结果", "published results"),
    "out_holds_broken": ("审计记录无法校验", "an audit record that does not verify"),
    "out_holds_foreign": ("非 randinspect 写入的文件：{files}", "files randinspect did not write: {files}"),
    "run_folder_missing": ("文件夹不存在", "the folder does not exist"),
    "run_no_manifest": (
        "不是 randinspect 运行文件夹：缺少或无法读取 manifest.json",
        "not a randinspect run folder: manifest.json is missing or unreadable",
    ),
    "file_missing": ("{name}：缺失", "{name}: missing"),
    "file_added": ("{name}：不在清单中（多出的文件）", "{name}: not in the manifest (an added file)"),
    "file_differs": ("{name}：内容不同（清单 {was}…，现为 {now}…）", "{name}: differs (manifest {was}…, now {now}…)"),
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
