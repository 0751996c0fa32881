"""Synthetic registries ("一单两库") and quarterly plans, plus the bundled sample county.

``generate_registry`` writes a complete registry folder in the interchange
contract's format (``/work/shared/CONTRACT.md``) and a ``plan.yaml`` whose
expected load on the eligible inspectors matches ``tightness``. Enterprises
and history are generated county by county with vectorised numpy, so ten
million enterprises fit in a few hundred MB of memory. The same arguments
always give byte-identical files.

``quarterly_cap`` and ``province_staffing`` (``delegated``: 属地实施, the county bureaus staff
the province and city tasks) shape the plan for province-scale registries; county bureaus of
dense counties (and all of them when delegated) get a staffing floor so every visit finds
eligible inspectors, and a busy plan (tightness x quarterly cap above the quarter's working days)
gets whole-quarter windows. Registries with the default options keep their bytes.

``build_sample`` writes the small county bundled in ``data/sample_county``
(mixed file formats, Chinese headers, every rule's trap listed in
``traps.json``). ``python -m data.generate --sample`` rebuilds it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from scheduler.plan import quarter_bounds
from scheduler.registry import jurisdiction_prefix
from scheduler.uscc import ALPHABET, WEIGHTS

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_county"
SAMPLE_SEED = 20260101
RISK = ("A", "B", "C", "D")
RISK_P = (0.40, 0.35, 0.18, 0.07)
# Relative sampling ratio per risk class (A 0.02, B 0.04, C 0.08, D 0.15 in shape).
RISK_SHAPE = {"A": 1.0, "B": 2.0, "C": 4.0, "D": 7.5}
POLICY_CAP = 30
POLICY_DAILY = 2
TEAM = 2
LOOKBACK = 365
# Who staffs the province and city tasks (contract ``staffing``): ``local`` also the bureaus
# below the lead whose jurisdiction holds the enterprise; ``delegated`` (属地实施) only the
# deepest same-department bureau holding it, i.e. the county bureau.
PROVINCE_STAFFING = ("local", "delegated")
# Province density: a county of at least DENSE_COUNTY enterprises has capacity-bound tasks
# (its joint task alone fills its ecology bureau), so every visit must find eligible inspectors
# in its county bureaus even after leave, missing certificates, conflicts and rotation (a D-class
# enterprise may have two recent visits: four inspectors excluded). Such a county, and every
# county when the province and city tasks are delegated to the county bureaus, gets at least
# ECOLOGY_MIN_DENSE ecology staff (ECOLOGY_USABLE_MIN of them usable all quarter: two are left,
# so no pair exceeds pair_probability_cap 0.5) and MARKET_MIN_DENSE market staff with
# SPECIALTY_MIN usable holders of each specialty its own and the delegated tasks need. Other
# counties are left as drawn (their registries keep their bytes). A busy plan (tightness x
# quarterly cap above the quarter's working days) also caps inspectors held to one visit a day,
# or whose certificate expires in the quarter, at PACE of their days.
DENSE_COUNTY = 5_000
ECOLOGY_MIN_DENSE = 6
ECOLOGY_USABLE_MIN = 6
MARKET_MIN_DENSE = 8
SPECIALTY_MIN = 4
PACE = 0.65
DENSE_SPECIALTIES = ("food", "special_equipment", "drugs")
MARKET_SPECIALTIES = ("food", "special_equipment", "drugs", "pricing", "general")

# --------------------------------------------------------------------------- word lists

PROVINCE = ("130000", "河北省", 38.04, 114.51)
CITIES = [
    ("1301", "石家庄", 38.04, 114.51),
    ("1302", "唐山", 39.63, 118.18),
    ("1303", "秦皇岛", 39.94, 119.60),
    ("1304", "邯郸", 36.63, 114.54),
    ("1305", "邢台", 37.07, 114.50),
    ("1306", "保定", 38.87, 115.46),
    ("1307", "张家口", 40.77, 114.89),
    ("1308", "承德", 40.95, 117.96),
    ("1309", "沧州", 38.30, 116.84),
    ("1310", "廊坊", 39.54, 116.68),
    ("1311", "衡水", 37.74, 115.67),
]
EXTRA_CITY_NAMES = "燕州 赵州 恒州 易州 深州 定州 冀州 瀛州 祁州 蠡州 磁州 洺州 涿州 蓟州 滦州 雄州".split()
COUNTY_FIRST = list("长桥新裕藁鹿栾井正行灵高深赞无平元赵辛晋乐安曲阜唐望易涞定顺博蠡雄容清阜固武景故枣饶")
COUNTY_SECOND = list("安西华城泉阳平寿邑泽皇极山氏州集县城乡水亭宁都兴河川丰隆定远德康")

# (industry code, weight, word used in enterprise names)
INDUSTRIES = [
    ("A0141", 1.5, "农业"),
    ("C1310", 1.0, "粮油"),
    ("C1391", 0.6, "食品"),
    ("C1419", 1.0, "食品"),
    ("C1431", 0.6, "食品"),
    ("C1512", 0.5, "酒业"),
    ("C1524", 0.4, "饮品"),
    ("C1711", 1.0, "纺织"),
    ("C1810", 1.5, "服装"),
    ("C2211", 0.4, "纸业"),
    ("C2614", 0.5, "化工"),
    ("C2631", 0.3, "化工"),
    ("C2511", 0.2, "石化"),
    ("C2929", 0.8, "塑料制品"),
    ("C3021", 0.6, "水泥制品"),
    ("C3130", 0.3, "钢铁"),
    ("C2710", 0.3, "制药"),
    ("C2740", 0.2, "药业"),
    ("C3311", 0.8, "金属制品"),
    ("C3411", 0.5, "锅炉"),
    ("C3431", 0.4, "起重设备"),
    ("C3512", 0.6, "机械设备"),
    ("E4710", 3.0, "建筑工程"),
    ("F5124", 3.0, "商贸"),
    ("F5211", 6.0, "百货"),
    ("F5212", 5.0, "超市"),
    ("F5221", 4.0, "粮油食品"),
    ("F5223", 1.5, "果蔬"),
    ("F5251", 2.0, "大药房"),
    ("F5261", 1.5, "汽车销售"),
    ("G5431", 3.0, "物流"),
    ("H6110", 1.5, "酒店"),
    ("H6210", 7.0, "餐饮"),
    ("H6220", 3.0, "快餐"),
    ("I65", 4.0, "软件科技"),
    ("I6432", 2.0, "网络科技"),
    ("K7010", 2.0, "房地产开发"),
    ("K7020", 2.0, "物业服务"),
    ("L7212", 6.0, "企业管理咨询"),
    ("L7251", 2.0, "广告"),
    ("M7320", 1.5, "技术开发"),
    ("O8010", 3.0, "家政服务"),
    ("O8021", 2.0, "美容美发"),
    ("P8391", 1.0, "教育咨询"),
    ("R8870", 1.0, "文化传媒"),
]
TRADE_CHARS = list(
    "恒达兴盛华泰鑫源宏远昌隆丰瑞祥和顺安永佳嘉益康福鼎诚信通博睿新航金辉旭晨明德润泽天宇正大中冀燕赵鹏飞凯胜"
)
ROADS = (
    "中山路 建设大街 燕赵大街 解放路 人民路 和平路 胜利街 育才街 光明路 新华路 友谊大街 长安路 工业路 迎宾大道 "
    "兴华街 朝阳路 永安街 府前街 东风路 北环路 南环路 西环路 东环路 常山路 恒山街 创业路 顺平街 阳光路 裕华路 槐安路"
).split()
SURNAMES = list(
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建红志国海燕波鹏辉宁斌宇浩凯晨欣怡婷雪琳博文"
)
INACTIVE = ("吊销，未注销", "注销", "歇业")  # national registration status values (see scheduler.forms)
ACTIVE_FORMS = ("存续（在营、开业、在册）",) * 6 + ("存续(在营、开业、在册)", "在营（开业）", "开业", "存续")
"""How the sample county writes 'active': the national code and the forms exports carry."""
ENTITY_BY_KIND = {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}
"""市场主体类型 from the credit code's second character (GB 32100-2015, registered by 市场监管)."""
CONFLICT_REASONS = ("近亲属在该企业任职", "曾在该企业任职", "与该企业存在经济往来", "本人申请回避")

ITEMS = [
    ("I-001", "market", "食品经营许可及经营过程检查", "《中华人民共和国食品安全法》第一百一十条", "food"),
    ("I-002", "market", "食品生产企业生产过程检查", "《中华人民共和国食品安全法》第八十七条", "food"),
    (
        "I-003",
        "market",
        "特种设备使用单位安全状况检查",
        "《中华人民共和国特种设备安全法》第五十七条",
        "special_equipment",
    ),
    (
        "I-004",
        "market",
        "药品经营质量管理规范执行情况检查",
        "《中华人民共和国药品管理法》第九十九条",
        "drugs",
    ),
    ("I-005", "market", "明码标价和价格行为检查", "《中华人民共和国价格法》第十三条", "pricing"),
    ("I-006", "market", "企业公示信息情况检查", "《企业信息公示暂行条例》第十四条", "general"),
    ("E-001", "ecology", "排污许可证执行情况检查", "《排污许可管理条例》第二十九条", "environment"),
    (
        "E-002",
        "ecology",
        "危险废物规范化环境管理检查",
        "《中华人民共和国固体废物污染环境防治法》第八十一条",
        "environment",
    ),
    (
        "E-003",
        "ecology",
        "大气污染防治设施运行情况检查",
        "《中华人民共和国大气污染防治法》第二十条",
        "environment",
    ),
]

# Task populations, broadest first; a narrower one (a subset) is used when the
# key-area enterprises alone would take too much of the task's share.
POP_PROVINCE = [["C27", "F5251"], ["C27"], ["C274"]]
POP_CITY = [["C13", "C14", "C15"], ["C14", "C15"], ["C15"], ["C1524"]]
POP_FOOD = [
    ["F5211", "F5212", "F5221", "F5223", "H62"],
    ["F5212", "F5221", "F5223", "H62"],
    ["F5221", "F5223", "H62"],
    ["F5221", "H62"],
    ["H62"],
    ["H6220"],
]
POP_SE = [
    ["C34", "C35", "K70", "H61", "F5261"],
    ["C34", "C35", "K7020", "H61"],
    ["C34", "C35", "H61"],
    ["C34", "C35"],
    ["C343"],
]
POP_JOINT = [
    ["C22", "C25", "C26", "C29", "C30", "C31", "C33"],
    ["C26", "C29", "C30", "C33"],
    ["C26", "C30"],
    ["C26"],
    ["C263"],
]
JOINT_MAX_RATIO = 0.3  # the joint task draws at most about this share of its population
PROVINCE_SHARE = 0.05  # of all market visits
CITY_SHARE = 0.10  # of the city's market visits
FOOD_SHARE = 0.62  # of what the county tasks take besides the joint task
KEY_LIMIT = 0.4  # key-area enterprises at most this share of a task's visits

ENTERPRISE_SCHEMA = pa.schema(
    [
        ("credit_code", pa.string()),
        ("name", pa.string()),
        ("region_code", pa.string()),
        ("industry", pa.string()),
        ("risk_class", pa.string()),
        ("key_area", pa.bool_()),
        ("abnormal", pa.bool_()),
        ("complaints", pa.int64()),
        ("status", pa.string()),
        ("entity_type", pa.string()),
        ("legal_rep_id", pa.string()),
        ("address", pa.string()),
        ("lat", pa.float64()),
        ("lon", pa.float64()),
    ]
)
HISTORY_SCHEMA = pa.schema(
    [
        ("credit_code", pa.string()),
        ("agency_id", pa.string()),
        ("date", pa.string()),
        ("inspector_ids", pa.string()),
    ]
)
INSPECTOR_COLUMNS = [
    "inspector_id",
    "name",
    "agency_id",
    "certificate_no",
    "certificate_expiry",
    "auxiliary",
    "specialties",
    "quarterly_cap",
    "daily_cap",
    "former_employers",
    "relatives_ids",
]


class GenerateError(ValueError):
    """Arguments the generator cannot use (the message says which and why)."""


# --------------------------------------------------------------------------- geography


@dataclass
class County:
    code: str  # 6 digits
    name: str  # e.g. 正定县
    city_code: str  # 6 digits
    city_name: str  # e.g. 石家庄
    lat: float
    lon: float
    enterprises: int = 0


@dataclass
class Geography:
    cities: list[tuple[str, str, float, float]]  # (6-digit code, name, lat, lon)
    counties: list[County] = field(default_factory=list)


def _geography(cities: int, counties_per_city: int, enterprises: int, rng: np.random.Generator) -> Geography:
    """Cities ``13xx00`` and counties ``13xxyy`` with enterprise counts (lognormal shares)."""
    if not 1 <= cities <= 99 or not 1 <= counties_per_city <= 98:
        raise GenerateError("cities must be 1..99 and counties_per_city 1..98")
    city_list = []
    for i in range(cities):
        if i < len(CITIES):
            pre, name, lat, lon = CITIES[i]
        else:
            extra = EXTRA_CITY_NAMES[(i - len(CITIES)) % len(EXTRA_CITY_NAMES)]
            k = (i - len(CITIES)) // len(EXTRA_CITY_NAMES)
            name = extra if k == 0 else f"{extra}{k + 1}"
            pre = f"13{i + 1:02d}"
            lat, lon = float(rng.uniform(36.5, 41.5)), float(rng.uniform(114.0, 119.0))
        city_list.append((pre + "00", name, lat, lon))
    geo = Geography(city_list)
    used: set[str] = set()
    for code, cname, clat, clon in city_list:
        for j in range(counties_per_city):
            while True:
                base = str(rng.choice(COUNTY_FIRST)) + str(rng.choice(COUNTY_SECOND))
                name = base + ("区" if j < 3 else "县")
                if name not in used:
                    used.add(name)
                    break
            geo.counties.append(
                County(
                    f"{code[:4]}{j + 2:02d}",
                    name,
                    code,
                    cname,
                    round(clat + float(rng.normal(0, 0.25)), 4),
                    round(clon + float(rng.normal(0, 0.25)), 4),
                )
            )
    shares = rng.lognormal(0.0, 0.5, len(geo.counties))
    for county, n in zip(geo.counties, _split_total(enterprises, shares), strict=True):
        county.enterprises = int(n)
    return geo


def _split_total(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing to ``total`` (largest remainder)."""
    w = np.asarray(weights, dtype=float)
    exact = total * w / w.sum()
    base = np.floor(exact).astype(np.int64)
    rest = total - int(base.sum())
    order = np.lexsort((np.arange(len(w)), -(exact - base)))
    base[order[:rest]] += 1
    return base


def _agencies(geo: Geography) -> pd.DataFrame:
    """market: province -> city -> county; ecology: province -> city -> county (分局)."""
    rows = [
        ("SJ130000", "河北省市场监督管理局", "market", "province", "", "130000"),
        ("ST130000", "河北省生态环境厅", "ecology", "province", "", "130000"),
    ]
    for code, name, _, _ in geo.cities:
        rows.append((f"SJ{code}", f"{name}市市场监督管理局", "market", "city", "SJ130000", code))
        rows.append((f"ST{code}", f"{name}市生态环境局", "ecology", "city", "ST130000", code))
    for c in geo.counties:
        rows.append(
            (f"SJ{c.code}", f"{c.name}市场监督管理局", "market", "county", f"SJ{c.city_code}", c.code)
        )
        rows.append(
            (
                f"ST{c.code}",
                f"{c.city_name}市生态环境局{c.name}分局",
                "ecology",
                "county",
                f"ST{c.city_code}",
                c.code,
            )
        )
    df = pd.DataFrame(rows, columns=["agency_id", "name", "department", "level", "parent_id", "region_code"])
    return df.sort_values("agency_id", ignore_index=True)


# --------------------------------------------------------------------------- inspectors


def _floor_counties(geo: Geography, delegated: bool) -> frozenset[str]:
    """Codes of the counties whose bureaus get the staffing floor: the dense ones (at least
    ``DENSE_COUNTY`` enterprises), or every county when the province and city tasks are
    delegated to the county bureaus."""
    return frozenset(c.code for c in geo.counties if delegated or c.enterprises >= DENSE_COUNTY)


def _inspector_counts(geo: Geography, total: int, floor: frozenset[str] = frozenset()) -> dict[str, int]:
    """Staff per agency: about 3% province, 12% city, 77% county market, 7% ecology.

    Counties of ``floor`` get at least ``ECOLOGY_MIN_DENSE`` ecology / ``MARKET_MIN_DENSE``
    market staff; the ecology staff added that way are taken from the county market share, so
    the total stays about ``total``."""
    n_ent = np.array([c.enterprises for c in geo.counties], dtype=float) + 1.0
    counts: dict[str, int] = {"SJ130000": max(2, round(0.03 * total)), "ST130000": 0}
    city_w = np.array(
        [sum(c.enterprises for c in geo.counties if c.city_code == code) + 1.0 for code, *_ in geo.cities]
    )
    for (code, *_), n in zip(geo.cities, _split_total(round(0.12 * total), city_w), strict=True):
        counts[f"SJ{code}"] = max(2, int(n))
    for (code, *_), n in zip(geo.cities, _split_total(round(0.03 * total), city_w), strict=True):
        counts[f"ST{code}"] = int(n)
    eco_min = [ECOLOGY_MIN_DENSE if c.code in floor else 2 for c in geo.counties]
    eco_split = _split_total(round(0.04 * total), n_ent)
    extra = sum(  # staff the floor adds to ecology (the old minimum of 2 stays uncompensated)
        max(0, m - int(n))
        for c, m, n in zip(geo.counties, eco_min, eco_split, strict=True)
        if c.code in floor
    )
    market_split = _split_total(max(0, round(0.77 * total) - extra), n_ent)
    for c, n_market, m, n_eco in zip(geo.counties, market_split, eco_min, eco_split, strict=True):
        counts[f"SJ{c.code}"] = max(MARKET_MIN_DENSE if c.code in floor else 4, int(n_market))
        counts[f"ST{c.code}"] = max(m, int(n_eco))
    return counts


def _person_names(n: int, rng: np.random.Generator) -> list[str]:
    sur = rng.choice(SURNAMES, n)
    g1 = rng.choice(GIVEN, n)
    g2 = rng.choice(GIVEN, n)
    two = rng.random(n) < 0.6
    return [s + a + (b if t else "") for s, a, b, t in zip(sur, g1, g2, two, strict=True)]


def _inspectors(
    agencies: pd.DataFrame, counts: dict[str, int], quarter: str, rng: np.random.Generator
) -> pd.DataFrame:
    """The roster, without conflict references (filled in once enterprises exist)."""
    q_start, q_end = quarter_bounds(quarter)
    rows = []
    dept = dict(zip(agencies["agency_id"], agencies["department"], strict=True))
    region = dict(zip(agencies["agency_id"], agencies["region_code"], strict=True))
    for agency_id in agencies["agency_id"]:
        n = counts.get(agency_id, 0)
        if n == 0:
            continue
        names = _person_names(n, rng)
        u = rng.random((n, 8))
        for k in range(n):
            r = u[k]
            if dept[agency_id] == "ecology":
                spec = ["environment"] + (["general"] if r[0] < 0.3 else [])
            else:
                spec = [
                    s
                    for s, p, x in zip(
                        ("food", "special_equipment", "drugs", "pricing", "general"),
                        (0.55, 0.35, 0.22, 0.15, 0.35),
                        rng.random(5),
                        strict=True,
                    )
                    if x < p
                ] or ["general"]
            cert = f"{region[agency_id][:2]}{2015 + int(r[1] * 10)}{region[agency_id][2:]}{k + 1:04d}"
            if r[2] < 0.02:
                cert = ""
            if r[3] < 0.03:
                expiry = q_start + dt.timedelta(days=int(10 + r[4] * ((q_end - q_start).days - 20)))
            elif r[3] < 0.05:
                expiry = q_start - dt.timedelta(days=int(1 + r[4] * 200))
            else:
                expiry = dt.date(q_end.year + 1 + int(r[4] * 4), 1 + int(r[5] * 12), 1) - dt.timedelta(days=1)
            cap = ""
            if r[6] < 0.04:
                cap = str(int(8 + r[7] * 15))
            elif r[6] > 0.99:
                cap = "40"
            rows.append(
                {
                    "inspector_id": f"{agency_id}-{k + 1:04d}",
                    "name": names[k],
                    "agency_id": agency_id,
                    "certificate_no": cert,
                    "certificate_expiry": expiry.isoformat() if cert else "",
                    "auxiliary": bool(r[7] < 0.05),
                    "specialties": ";".join(spec),
                    "quarterly_cap": cap,
                    "daily_cap": "1" if r[5] > 0.985 else "",
                    "former_employers": "",
                    "relatives_ids": "",
                }
            )
    return pd.DataFrame(rows, columns=INSPECTOR_COLUMNS)


def _ecology_raised(geo: Geography, total: int, floor: frozenset[str]) -> frozenset[str]:
    """The counties of ``floor`` whose ecology bureau :func:`_inspector_counts` enlarged."""
    n_ent = np.array([c.enterprises for c in geo.counties], dtype=float) + 1.0
    split = _split_total(round(0.04 * total), n_ent)
    return frozenset(
        c.code for c, n in zip(geo.counties, split, strict=True) if c.code in floor and n < ECOLOGY_MIN_DENSE
    )


def _staff_floor(
    staff: pd.DataFrame, quarter: str, floor: frozenset[str], ecology: frozenset[str]
) -> pd.DataFrame:
    """At least ``SPECIALTY_MIN`` usable market staff (certified, not auxiliary, the
    certificate valid past the quarter) holding each of ``DENSE_SPECIALTIES`` in the counties of
    ``floor``, and ``ECOLOGY_USABLE_MIN`` usable ecology staff in those of ``ecology`` (the
    bureaus the floor enlarged). The first staff by id who miss it are given it (no random draw,
    so nothing else changes); bureaus that already have it are left as they are."""
    if not floor and not ecology:
        return staff
    staff = staff.copy()
    _, q_end = quarter_bounds(quarter)
    usable = np.array(
        staff["certificate_no"].ne("")
        & ~staff["auxiliary"].astype(bool)
        & staff["certificate_expiry"].gt(q_end.isoformat())
    )
    rows_of = dict(staff.groupby("agency_id").indices)
    specs = [s.split(";") for s in staff["specialties"]]
    col = {c: staff.columns.get_loc(c) for c in ("auxiliary", "certificate_no", "certificate_expiry")}
    none = np.array([], dtype=np.int64)
    for code in sorted(ecology):
        rows = np.sort(rows_of.get(f"ST{code}", none))
        for i in rows[~usable[rows]][: max(0, ECOLOGY_USABLE_MIN - int(usable[rows].sum()))]:
            iid = staff["inspector_id"].iat[i]
            staff.iat[i, col["auxiliary"]] = False
            staff.iat[i, col["certificate_no"]] = f"{code[:2]}2020{code[2:]}{iid[-4:]}"
            staff.iat[i, col["certificate_expiry"]] = f"{q_end.year + 2}-12-31"
            usable[i] = True
    for code in sorted(floor):
        rows = np.sort(rows_of.get(f"SJ{code}", none))
        rows = rows[usable[rows]]
        for spec in DENSE_SPECIALTIES:
            lacking = SPECIALTY_MIN - sum(spec in specs[i] for i in rows)
            for i in [i for i in rows if spec not in specs[i]][: max(0, lacking)]:
                specs[i] = [s for s in MARKET_SPECIALTIES if s in specs[i] or s == spec]
    staff["specialties"] = [";".join(x) for x in specs]
    return staff


def _pace_limited_staff(staff: pd.DataFrame, leave: pd.DataFrame, quarter: str) -> pd.DataFrame:
    """For a busy plan (see :func:`_busy`): an inspector held to one visit a day, or whose
    certificate expires within the quarter, gets a quarterly cap of at most ``PACE`` x their
    daily cap x working days (certificate valid, off leave). Otherwise staffing fills them to
    their daily cap on nearly every working day they have, and the dates cannot give each of
    those visits a day the other team member is free. No random draw."""
    q_start, q_end = quarter_bounds(quarter)
    work = np.array(_workdays(q_start, q_end), dtype="datetime64[D]")
    daily1 = staff["daily_cap"].astype(str).eq("1").to_numpy()
    expiring = staff["certificate_expiry"].between(q_start.isoformat(), q_end.isoformat()).to_numpy()
    pick = np.flatnonzero((daily1 | expiring) & staff["certificate_no"].ne("").to_numpy())
    if not len(pick):
        return staff
    away = leave.groupby("inspector_id")[["start", "end"]].agg(list)
    caps = staff["quarterly_cap"].astype(str).tolist()
    for i in pick:
        ok = work <= np.datetime64(staff["certificate_expiry"].iat[i])
        iid = staff["inspector_id"].iat[i]
        if iid in away.index:
            for a, b in zip(away.at[iid, "start"], away.at[iid, "end"], strict=True):
                ok &= ~((work >= np.datetime64(a)) & (work <= np.datetime64(b)))
        limit = max(1, int(PACE * (1 if daily1[i] else POLICY_DAILY) * int(ok.sum())))
        if caps[i] in ("", "nan", "<NA>") or int(caps[i]) > limit:
            caps[i] = str(limit)
    return staff.assign(quarterly_cap=caps)


def _leave(inspectors: pd.DataFrame, quarter: str, rng: np.random.Generator) -> pd.DataFrame:
    """About 6% of the staff away 5 to 14 days inside the quarter."""
    q_start, q_end = quarter_bounds(quarter)
    pick = np.flatnonzero(rng.random(len(inspectors)) < 0.06)
    days = (q_end - q_start).days
    starts = rng.integers(0, days - 14, len(pick))
    lengths = rng.integers(5, 15, len(pick))
    rows = [
        (
            inspectors["inspector_id"].iat[i],
            (q_start + dt.timedelta(days=int(s))).isoformat(),
            (q_start + dt.timedelta(days=int(s + ln - 1))).isoformat(),
        )
        for i, s, ln in zip(pick, starts, lengths, strict=True)
    ]
    return pd.DataFrame(rows, columns=["inspector_id", "start", "end"])


# --------------------------------------------------------------------------- enterprises

_ALPHA = np.frombuffer(ALPHABET.encode(), dtype="S1")
_ALPHA_INDEX = {c: k for k, c in enumerate(ALPHABET)}
_W = np.array(WEIGHTS, dtype=np.int64)
_ORG_SPACE = 31**9


def _credit_codes(region: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct valid credit codes for one county (GB 32100-2015).

    9 1|2|3 <region> <9-character organisation code> <check>. The organisation
    codes are an affine bijection of 0..n-1 modulo 31**9, so they never repeat.
    """
    kind = rng.choice(np.array([1, 2, 3]), n, p=[0.88, 0.10, 0.02])
    a = int(rng.integers(1, _ORG_SPACE // 31)) * 31 + int(rng.integers(1, 31))  # not a multiple of 31
    b = int(rng.integers(0, _ORG_SPACE))
    serial = (np.arange(n, dtype=object) * a + b) % _ORG_SPACE  # exact big-int arithmetic
    serial = serial.astype(np.int64)
    idx = np.empty((n, 18), dtype=np.int64)
    idx[:, 0] = 9
    idx[:, 1] = kind
    for p, ch in enumerate(region):
        idx[:, 2 + p] = int(ch)
    for p in range(16, 7, -1):
        idx[:, p] = serial % 31
        serial //= 31
    idx[:, 17] = (31 - (idx[:, :17] @ _W) % 31) % 31
    return _ALPHA[idx].view("S18").ravel().astype("U18")


def _cat(*parts: np.ndarray | str) -> np.ndarray:
    out = np.asarray(parts[0]).astype(str)
    for p in parts[1:]:
        out = np.char.add(out, np.asarray(p).astype(str))
    return out


def _enterprise_chunk(county: County, rng: np.random.Generator) -> pd.DataFrame:
    """All enterprises of one county, sorted by credit code."""
    n = county.enterprises
    codes = _credit_codes(county.code, n, rng)
    kind = np.array([c[1] for c in codes]) if n else np.array([], dtype=str)
    w = np.array([x[1] for x in INDUSTRIES])
    ind = rng.choice(len(INDUSTRIES), n, p=w / w.sum())
    industry = np.array([x[0] for x in INDUSTRIES])[ind]
    word = np.array([x[2] for x in INDUSTRIES])[ind]
    risk = np.array(RISK)[rng.choice(4, n, p=RISK_P)]
    short_county = county.name[:-1] if len(county.name) > 2 else county.name
    prefix = np.array([county.city_name, short_county, "河北"])[rng.choice(3, n, p=[0.5, 0.35, 0.15])]
    trade = _cat(
        np.array(TRADE_CHARS)[rng.integers(0, len(TRADE_CHARS), n)],
        np.array(TRADE_CHARS)[rng.integers(0, len(TRADE_CHARS), n)],
    )
    suffix = np.array(["有限公司", "有限责任公司", "股份有限公司"])[rng.choice(3, n, p=[0.8, 0.17, 0.03])]
    name = np.where(
        kind == "1",
        _cat(prefix, trade, word, suffix),
        np.where(
            kind == "2", _cat(short_county, trade, word, "店"), _cat(short_county, trade, "农民专业合作社")
        ),
    )
    risk_rank = np.searchsorted(np.array(RISK), risk)
    abnormal = rng.random(n) < np.array([0.01, 0.02, 0.05, 0.12])[risk_rank]
    complaints = rng.poisson(np.array([0.1, 0.2, 0.5, 1.2])[risk_rank])
    status = np.where(rng.random(n) < 0.05, np.array(INACTIVE)[rng.integers(0, 3, n)], "active")
    legal = rng.integers(10**17, 7 * 10**17, n).astype("U18")
    address = _cat(
        county.name,
        np.array(ROADS)[rng.integers(0, len(ROADS), n)],
        rng.integers(1, 400, n).astype(str),
        "号",
    )
    df = pd.DataFrame(
        {
            "credit_code": codes,
            "name": name,
            "region_code": county.code,
            "industry": industry,
            "risk_class": risk,
            "key_area": rng.random(n) < 0.02,
            "abnormal": abnormal,
            "complaints": complaints.astype(np.int64),
            "status": status,
            "entity_type": np.array([ENTITY_BY_KIND.get(k, "企业") for k in kind], dtype=object),
            "legal_rep_id": legal,
            "address": address,
            "lat": np.round(county.lat + rng.normal(0, 0.05, n), 5),
            "lon": np.round(county.lon + rng.normal(0, 0.06, n), 5),
        }
    )
    return df.sort_values("credit_code", ignore_index=True)


def _weekday_dates(days: np.ndarray, origin: dt.date) -> np.ndarray:
    """Dates ``origin + days`` moved off weekends (Saturday -> Friday, Sunday -> Monday)."""
    d = np.datetime64(origin) + days.astype("timedelta64[D]")
    wd = (d.astype(np.int64) + 3) % 7  # 0 = Monday
    d = d - (wd == 5).astype("timedelta64[D]") + (wd == 6).astype("timedelta64[D]")
    return d


def _history_chunk(
    ent: pd.DataFrame, county: County, staff: dict[str, np.ndarray], quarter: str, rng: np.random.Generator
) -> pd.DataFrame:
    """Past inspections of one county's enterprises: within the lookback (risk-weighted)
    and older; mostly by the county bureau, some by city/province (dedup) and ecology."""
    q_start, _ = quarter_bounds(quarter)
    n = len(ent)
    risk_rank = np.searchsorted(np.array(RISK), ent["risk_class"].to_numpy())
    p_recent = np.array([0.03, 0.05, 0.08, 0.15])[risk_rank]
    u = rng.random(n)
    recent = np.flatnonzero(u < p_recent)
    old = np.flatnonzero((u >= p_recent) & (u < p_recent + 0.02))
    again = recent[rng.random(len(recent)) < 0.1]
    rows = np.concatenate([recent, again, old])
    offsets = np.concatenate(
        [
            -rng.integers(3, 358, len(recent) + len(again)),
            -rng.integers(380, 720, len(old)),
        ]
    )
    dates = _weekday_dates(offsets, q_start)
    agencies = np.array([f"SJ{county.code}", f"SJ{county.city_code}", "SJ130000", f"ST{county.code}"])[
        rng.choice(4, len(rows), p=[0.72, 0.08, 0.03, 0.17])
    ]
    inspectors = np.empty(len(rows), dtype=object)
    for a in np.unique(agencies):
        sel = np.flatnonzero(agencies == a)
        ids = staff.get(str(a), np.array([], dtype=str))
        if len(ids) == 0:
            inspectors[sel] = ""
            continue
        i1 = rng.integers(0, len(ids), len(sel))
        if len(ids) == 1:
            inspectors[sel] = ids[i1]
            continue
        i2 = (i1 + 1 + rng.integers(0, len(ids) - 1, len(sel))) % len(ids)
        lo, hi = np.minimum(i1, i2), np.maximum(i1, i2)
        inspectors[sel] = np.char.add(np.char.add(ids[lo], ";"), ids[hi])
    df = pd.DataFrame(
        {
            "credit_code": ent["credit_code"].to_numpy()[rows],
            "agency_id": agencies,
            "date": np.datetime_as_string(dates, unit="D"),
            "inspector_ids": inspectors.astype(str),
        }
    )
    return df.sort_values(["credit_code", "date", "agency_id"], ignore_index=True)


# --------------------------------------------------------------------------- summary and plan


def _summary(ent: pd.DataFrame, hist: pd.DataFrame, quarter: str, agencies: pd.DataFrame) -> pd.DataFrame:
    """Eligible enterprises per (region, industry, risk class, key area) as
    :mod:`scheduler.draw` counts them, separately for province/city/county tasks of
    the market department (dedup differs by level)."""
    q_start, q_end = quarter_bounds(quarter)
    lo, hi = (q_start - dt.timedelta(days=LOOKBACK)).isoformat(), q_end.isoformat()
    h = hist[(hist["date"] >= lo) & (hist["date"] <= hi)]
    level = dict(zip(agencies["agency_id"], agencies["level"], strict=True))
    visits = h["credit_code"].value_counts()
    by_level = {
        lv: set(h.loc[h["agency_id"].map(level).eq(lv) & h["agency_id"].str.startswith("SJ"), "credit_code"])
        for lv in ("province", "city")
    }
    codes = ent["credit_code"]
    d = ent["risk_class"].eq("D").to_numpy()
    ok = ent["status"].eq("active").to_numpy() & ~((codes.map(visits).fillna(0).to_numpy() >= 1) & ~d)
    prov = codes.isin(by_level["province"]).to_numpy()
    city = codes.isin(by_level["city"]).to_numpy()
    frame = pd.DataFrame(
        {
            "region_code": ent["region_code"].to_numpy(),
            "industry": ent["industry"].to_numpy(),
            "risk_class": ent["risk_class"].to_numpy(),
            "key_area": ent["key_area"].to_numpy(dtype=bool),
            "province": ok,
            "city": ok & ~prov,
            "county": ok & ~prov & ~city,
        }
    )
    return frame.groupby(["region_code", "industry", "risk_class", "key_area"], as_index=False)[
        ["province", "city", "county"]
    ].sum()


def _workdays(start: dt.date, end: dt.date) -> list[dt.date]:
    try:
        import chinese_calendar

        def is_work(d: dt.date) -> bool:
            try:
                return chinese_calendar.is_workday(d)
            except NotImplementedError:
                return d.weekday() < 5
    except ImportError:  # pragma: no cover

        def is_work(d: dt.date) -> bool:
            return d.weekday() < 5

    days = [start + dt.timedelta(days=k) for k in range((end - start).days + 1)]
    return [d for d in days if is_work(d)]


def capacities(
    inspectors: pd.DataFrame, leave: pd.DataFrame, quarter: str, quarterly_cap: int = POLICY_CAP
) -> pd.Series:
    """Visits each inspector can make in the quarter: 0 without a valid certificate or when
    auxiliary, else min(quarterly cap, daily cap x certified working days off leave); the
    quarterly cap is the inspector's own or else the plan's ``quarterly_cap``."""
    q_start, q_end = quarter_bounds(quarter)
    work = _workdays(q_start, q_end)
    away: dict[str, set[dt.date]] = {}
    for r in leave.itertuples(index=False):
        s, e = dt.date.fromisoformat(str(r.start)), dt.date.fromisoformat(str(r.end))
        away.setdefault(r.inspector_id, set()).update(
            s + dt.timedelta(days=k) for k in range((e - s).days + 1)
        )
    caps = {}
    for r in inspectors.itertuples(index=False):
        aux = r.auxiliary if isinstance(r.auxiliary, bool | np.bool_) else str(r.auxiliary).lower() == "true"
        if not r.certificate_no or aux:
            caps[r.inspector_id] = 0
            continue
        expiry = dt.date.fromisoformat(r.certificate_expiry) if r.certificate_expiry else q_end
        off = away.get(r.inspector_id, set())
        n_days = sum(1 for d in work if d <= expiry and d not in off)
        own = str(r.quarterly_cap).strip() not in ("", "nan", "<NA>")
        q = int(r.quarterly_cap) if own else quarterly_cap
        dcap = int(r.daily_cap) if str(r.daily_cap).strip() not in ("", "nan", "<NA>") else POLICY_DAILY
        caps[r.inspector_id] = min(q, dcap * n_days)
    return pd.Series(caps, dtype=np.int64)


def _round_half_up(x: float) -> int:
    return int(Decimal(repr(x)).quantize(Decimal(1), ROUND_HALF_UP))


@dataclass
class _Fit:
    industries: list[str]
    ratio: dict[str, float] | None
    count: int | None
    visits: int
    key: int


def _pop(summary: pd.DataFrame, prefix: str, industries: list[str], level: str) -> tuple[int, dict[str, int]]:
    s = summary[
        summary["region_code"].str.startswith(prefix) & summary["industry"].str.startswith(tuple(industries))
    ]
    key = int(s.loc[s["key_area"], level].sum())
    rest = s[~s["key_area"]].groupby("risk_class")[level].sum()
    return key, {c: int(rest.get(c, 0)) for c in RISK}


def _fit(
    summary: pd.DataFrame,
    prefix: str,
    candidates: list[list[str]],
    target: float,
    level: str,
    by_count: bool = False,
) -> _Fit:
    """The broadest population whose key-area enterprises stay under ``KEY_LIMIT`` of
    ``target`` visits, and the ratio (risk-shaped) or count that brings it to ``target``."""
    chosen = None
    for industries in candidates:
        key, sizes = _pop(summary, prefix, industries, level)
        chosen = (industries, key, sizes)
        if key <= KEY_LIMIT * target:
            break
    assert chosen is not None
    industries, key, sizes = chosen
    want = max(target - key, 1.0)
    if by_count:
        count = max(1, min(round(want), sum(sizes.values())))
        return _Fit(industries, None, count, key + count, key)
    base = sum(RISK_SHAPE[c] * n for c, n in sizes.items())
    s = want / base if base else 0.0
    ratio = {c: min(1.0, max(0.0005, round(s * RISK_SHAPE[c], 4))) for c in RISK}
    visits = key + sum(min(n, _round_half_up(ratio[c] * n)) for c, n in sizes.items())
    return _Fit(industries, ratio, None, visits, key)


def _busy(quarter: str, tightness: float, quarterly_cap: int) -> bool:
    """True when an inspector is expected to make more than one visit per working day
    (tightness x quarterly cap > working days of the quarter): with the daily cap at 2, shorter
    windows then leave too few shared free days for the teams, so every window is the quarter."""
    qs, qe = quarter_bounds(quarter)
    return tightness * quarterly_cap > len(_workdays(qs, qe))


def _windows(quarter: str, whole_quarter: bool = False) -> dict[str, tuple[dt.date, dt.date]]:
    qs, qe = quarter_bounds(quarter)
    if whole_quarter:
        return dict.fromkeys(("province", "city", "food", "se", "joint"), (qs, qe))

    def workday_on_or_after(d: dt.date) -> dt.date:
        while d.weekday() >= 5:
            d += dt.timedelta(days=1)
        return d

    return {
        "province": (workday_on_or_after(qs + dt.timedelta(days=11)), qe - dt.timedelta(days=11)),
        "city": (workday_on_or_after(qs + dt.timedelta(days=4)), qe - dt.timedelta(days=4)),
        "food": (workday_on_or_after(qs + dt.timedelta(days=4)), qe),
        "se": (workday_on_or_after(qs + dt.timedelta(days=31)), qe),
        "joint": (workday_on_or_after(qs + dt.timedelta(days=14)), qe),
    }


def _build_plan(
    geo: Geography,
    inspectors: pd.DataFrame,
    caps: pd.Series,
    summary: pd.DataFrame,
    quarter: str,
    tightness: float,
    quarterly_cap: int = POLICY_CAP,
    province_staffing: str = "local",
) -> tuple[dict, dict[str, int], float]:
    """A quarterly plan whose expected inspector-visits / eligible capacity ~ ``tightness``.

    With ``province_staffing`` ``delegated`` the province and city tasks are staffed by the
    county bureaus alone, so their visits are fitted to the county bureaus' capacity and the
    province and city staff count for nothing. Returns the plan mapping, the expected visits
    per task and the expected tightness.
    """
    cap_by_agency = caps.groupby(inspectors.set_index("inspector_id")["agency_id"]).sum()
    delegated = province_staffing == "delegated"

    def cap(a: str) -> float:
        return float(cap_by_agency.get(a, 0))

    def upper(a: str) -> float:
        """Capacity of a province or city market bureau that its tasks can use."""
        return 0.0 if delegated else cap(a)

    t = tightness
    market_total = (
        upper("SJ130000")
        + sum(upper(f"SJ{c}") for c, *_ in geo.cities)
        + sum(cap(f"SJ{c.code}") for c in geo.counties)
    )
    win = _windows(quarter, _busy(quarter, tightness, quarterly_cap))
    tasks: list[dict] = []
    expected: dict[str, int] = {}

    def task(task_id: str, name: str, agency: str, kind: str, fit: _Fit, **extra) -> None:
        entry: dict = {"task_id": task_id, "name": name, "agency_id": agency}
        entry.update(
            {k: v for k, v in extra.items() if k in ("joint_agencies", "items", "specialty", "staffing")}
        )
        entry["population"] = {"industries": fit.industries, "risk_classes": list(RISK)}
        if fit.ratio is not None:
            entry["ratio"] = dict(fit.ratio)
        else:
            entry["count"] = fit.count
        entry["window"] = {"start": win[kind][0], "end": win[kind][1]}
        tasks.append(entry)
        expected[task_id] = fit.visits

    # Province task (drugs), staffed locally (or by the county bureaus alone) across the province.
    by_county = dict(tuple(summary.groupby("region_code"))) if len(summary) else {}

    def in_county(code: str) -> pd.DataFrame:
        """The summary rows of one county (what _pop would select from the whole summary)."""
        return by_county.get(code, summary.iloc[:0])

    prov_fit = _fit(summary, "13", POP_PROVINCE, PROVINCE_SHARE * t * market_total / TEAM, "province")
    task(
        "T130000-D",
        "全省药品经营使用单位双随机抽查",
        "SJ130000",
        "province",
        prov_fit,
        items=["I-004"],
        specialty="drugs",
        staffing=province_staffing,
    )
    prov_visits = {c.code: 0.0 for c in geo.counties}
    for c in geo.counties:
        key, sizes = _pop(in_county(c.code), c.code, prov_fit.industries, "province")
        prov_visits[c.code] = key + sum((prov_fit.ratio or {}).get(k, 0) * n for k, n in sizes.items())

    for code, cname, _, _ in geo.cities:
        counties = [c for c in geo.counties if c.city_code == code]
        city_cap = upper(f"SJ{code}") + sum(cap(f"SJ{c.code}") for c in counties)
        city_fit = _fit(summary, code[:4], POP_CITY, CITY_SHARE * t * city_cap / TEAM, "city")
        task(
            f"T{code}-F",
            f"{cname}市食品生产企业双随机抽查",
            f"SJ{code}",
            "city",
            city_fit,
            items=["I-002"],
            specialty="food",
            staffing=province_staffing,
        )
        pop_city = sum(c.enterprises for c in counties) or 1
        for c in counties:
            key, sizes = _pop(in_county(c.code), c.code, city_fit.industries, "city")
            city_visits = key + sum((city_fit.ratio or {}).get(k, 0) * n for k, n in sizes.items())
            share = cap(f"SJ{c.code}") + upper(f"SJ{code}") * c.enterprises / pop_city
            share += upper("SJ130000") * c.enterprises / max(1, sum(x.enterprises for x in geo.counties))
            eco = cap(f"ST{c.code}")
            key0, sizes0 = _pop(in_county(c.code), c.code, POP_JOINT[0], "county")
            joint_target = min(t * eco, key0 + JOINT_MAX_RATIO * sum(sizes0.values()))
            joint_fit = _fit(in_county(c.code), c.code, POP_JOINT, joint_target, "county")
            # Ecology capacity the joint task leaves unused goes to the market tasks, within limits.
            market_slots = t * share + max(0.0, t * eco - joint_fit.visits)
            market_slots = min(market_slots, max(t, min(0.95, t + 0.05)) * share)
            rest = (market_slots - joint_fit.visits) / TEAM - prov_visits[c.code] - city_visits
            rest = max(rest, 4.0)
            food_fit = _fit(in_county(c.code), c.code, POP_FOOD, FOOD_SHARE * rest, "county")
            se_fit = _fit(in_county(c.code), c.code, POP_SE, rest - food_fit.visits, "county", by_count=True)
            task(
                f"T{c.code}-F",
                f"{c.name}食品经营单位双随机抽查",
                f"SJ{c.code}",
                "food",
                food_fit,
                items=["I-001", "I-005"],
                specialty="food",
                staffing="lead",
            )
            task(
                f"T{c.code}-S",
                f"{c.name}特种设备使用单位双随机抽查",
                f"SJ{c.code}",
                "se",
                se_fit,
                items=["I-003"],
                specialty="special_equipment",
                staffing="lead",
            )
            task(
                f"T{c.code}-J",
                f"{c.name}涉气涉废企业部门联合双随机抽查",
                f"SJ{c.code}",
                "joint",
                joint_fit,
                joint_agencies=[f"ST{c.code}"],
                items=["I-006", "E-001", "E-002"],
                specialty="environment",
                staffing="lead",
            )

    county_market = {f"SJ{c.code}" for c in geo.counties}
    eligible_agencies = {
        a for a in cap_by_agency.index if a.startswith("SJ") and (not delegated or a in county_market)
    } | {f"ST{c.code}" for c in geo.counties}
    denominator = float(sum(cap(a) for a in eligible_agencies))
    total_visits = sum(expected.values())
    achieved = TEAM * total_visits / denominator if denominator else float("inf")
    plan = {
        "quarter": quarter,
        "policy": {
            "lookback_days": LOOKBACK,
            "max_visits_per_enterprise": 1,
            "team_size": TEAM,
            "quarterly_cap": quarterly_cap,
            "daily_cap": POLICY_DAILY,
            "rotation": True,
        },
        "tasks": tasks,
    }
    return plan, expected, achieved


class _PlanDumper(yaml.SafeDumper):
    """Safe YAML without anchors/aliases (tasks share window dates)."""

    def ignore_aliases(self, data) -> bool:
        return True


def _plan_text(
    plan: dict, expected: dict[str, int], achieved: float, tightness: float, notes: tuple[str, ...] = ()
) -> str:
    per_task = ", ".join(f"{k} {v}" for k, v in expected.items())
    if len(expected) > 12:
        per_task = ", ".join(f"{k} {v}" for k, v in list(expected.items())[:12]) + ", ..."
    head = (
        f"# Generated by data.generate: {len(plan['tasks'])} tasks, about {sum(expected.values())} visits\n"
        f"# ({per_task});\n"
        f"# expected inspector-visits / eligible capacity = {achieved:.3f} (asked {tightness}).\n"
    ) + "".join(f"# {n}\n" for n in notes)
    body = yaml.dump(plan, Dumper=_PlanDumper, sort_keys=False, allow_unicode=True, width=120)
    return head + body


# --------------------------------------------------------------------------- writing


class _Sink:
    """Appends DataFrame chunks to one CSV or Parquet file."""

    def __init__(self, path: Path, schema: pa.Schema | None = None):
        self.path = path
        self.schema = schema
        self.writer: pq.ParquetWriter | None = None
        self.started = False

    def write(self, df: pd.DataFrame) -> None:
        if self.path.suffix == ".parquet":
            table = pa.Table.from_pandas(df, schema=self.schema, preserve_index=False)
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.path, table.schema)
            self.writer.write_table(table)
        else:
            out = _csv_ready(df)
            out.to_csv(
                self.path,
                mode="a" if self.started else "w",
                header=not self.started,
                index=False,
                lineterminator="\n",
            )
        self.started = True

    def close(self, columns: list[str]) -> None:
        if not self.started:
            self.write(pd.DataFrame({c: pd.Series(dtype=str) for c in columns}))
        if self.writer is not None:
            self.writer.close()


def _csv_ready(df: pd.DataFrame) -> pd.DataFrame:
    """Booleans as ``true``/``false``, floats with 5 decimals, everything else as text."""
    out = df.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            out[col] = np.where(s.to_numpy(dtype=bool), "true", "false")
        elif pd.api.types.is_float_dtype(s):
            out[col] = [f"{v:.5f}" for v in s.to_numpy()]
    return out


def _write_table(df: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".parquet":
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), path)
    else:
        _csv_ready(df).to_csv(path, index=False, lineterminator="\n")


def _items_frame() -> pd.DataFrame:
    return pd.DataFrame(ITEMS, columns=["item_id", "department", "name", "legal_basis", "specialty"])


@dataclass
class _Parts:
    """What the generator produced, apart from enterprises/history already written."""

    geo: Geography
    agencies: pd.DataFrame
    inspectors: pd.DataFrame
    conflicts: pd.DataFrame
    leave: pd.DataFrame
    summary: pd.DataFrame


def _generate(
    enterprises: int,
    inspectors: int,
    cities: int,
    counties_per_city: int,
    quarter: str,
    seed: int,
    sink: Callable[[pd.DataFrame, pd.DataFrame], None],
    inspector_counts: Callable[[Geography], dict[str, int]] | None = None,
    geography: Geography | None = None,
    pace_limit: bool = False,
    floor_every_county: bool = False,
) -> _Parts:
    """Generate a registry, passing each county's (enterprises, history) to ``sink``;
    ``pace_limit``: the plan will be busy (:func:`_pace_limited_staff`); ``floor_every_county``:
    every county gets the staffing floor, not only the dense ones (:func:`_staff_floor`)."""
    root = np.random.SeedSequence(seed)
    rng = np.random.Generator(np.random.PCG64(root.spawn(1)[0]))
    geo = geography or _geography(cities, counties_per_city, enterprises, rng)
    agencies = _agencies(geo)
    floor = frozenset() if inspector_counts else _floor_counties(geo, floor_every_county)
    counts = inspector_counts(geo) if inspector_counts else _inspector_counts(geo, inspectors, floor)
    staff = _inspectors(agencies, counts, quarter, rng)
    if inspector_counts is None:
        staff = _staff_floor(staff, quarter, floor, _ecology_raised(geo, inspectors, floor))
    active_staff = staff[~staff["auxiliary"]]
    by_agency = {a: g["inspector_id"].to_numpy().astype(str) for a, g in active_staff.groupby("agency_id")}
    leave = _leave(staff, quarter, rng)
    if pace_limit:
        staff = _pace_limited_staff(staff, leave, quarter)

    # Inspectors with a former employer / a relative's id / a declared conflict: draw
    # which ones now, fill the references from their county's enterprises below.
    county_of = {}
    county_codes = [c.code for c in geo.counties]
    for i, a in enumerate(staff["agency_id"]):
        prefix = jurisdiction_prefix(a[2:])
        inside = [c for c in county_codes if c.startswith(prefix)]
        county_of[i] = inside[int(rng.integers(0, len(inside)))] if inside else county_codes[0]
    u = rng.random((len(staff), 3))
    wants: dict[str, list[tuple[int, str]]] = {}
    for i in range(len(staff)):
        for kind, p in zip(("former", "relative", "declared"), (0.01, 0.01, 0.015), strict=True):
            if u[i, ("former", "relative", "declared").index(kind)] < p:
                wants.setdefault(county_of[i], []).append((i, kind))
    former = [""] * len(staff)
    relatives = [""] * len(staff)
    conflicts: list[tuple[str, str, str]] = []

    summaries = []
    chunk_seeds = root.spawn(len(geo.counties) + 1)[1:]
    for county, ss in zip(geo.counties, chunk_seeds, strict=True):
        crng = np.random.Generator(np.random.PCG64(ss))
        ent = _enterprise_chunk(county, crng)
        hist = _history_chunk(ent, county, by_agency, quarter, crng)
        for i, kind in wants.get(county.code, []):
            if len(ent) == 0:
                continue
            j = int(crng.integers(0, len(ent)))
            if kind == "former":
                former[i] = ent["credit_code"].iat[j]
            elif kind == "relative":
                relatives[i] = ent["legal_rep_id"].iat[j]
            else:
                conflicts.append(
                    (
                        staff["inspector_id"].iat[i],
                        ent["credit_code"].iat[j],
                        CONFLICT_REASONS[j % len(CONFLICT_REASONS)],
                    )
                )
        summaries.append(_summary(ent, hist, quarter, agencies))
        sink(ent, hist)
    staff = staff.assign(former_employers=former, relatives_ids=relatives)
    conflict_df = pd.DataFrame(conflicts, columns=["inspector_id", "credit_code", "reason"])
    conflict_df = conflict_df.sort_values(["inspector_id", "credit_code"], ignore_index=True)
    summary = pd.concat(summaries, ignore_index=True) if summaries else pd.DataFrame()
    return _Parts(geo, agencies, staff, conflict_df, leave, summary)


def generate_registry(
    out_dir: str | Path,
    *,
    enterprises: int = 50_000,
    inspectors: int = 240,
    cities: int = 1,
    counties_per_city: int = 1,
    quarter: str = "2026Q1",
    seed: int = 0,
    tightness: float = 0.7,
    fmt: str = "csv",
    quarterly_cap: int = POLICY_CAP,
    province_staffing: str = "local",
) -> Path:
    """Write a synthetic registry (7 tables, ``fmt`` ``csv`` or ``parquet``) and ``plan.yaml``
    into ``out_dir``; the same arguments always give byte-identical files.

    ``quarterly_cap`` is the plan's policy cap (visits per inspector per quarter; the daily cap
    stays 2), which the plan's fit to ``tightness`` uses too. ``province_staffing`` is the
    staffing of the province and city tasks: ``local`` or ``delegated`` (属地实施: the county
    bureau holding the enterprise staffs the visit; every county bureau then gets the staffing
    floor, see ``DENSE_COUNTY``). A busy plan (tightness x quarterly_cap above the quarter's
    working days) has whole-quarter windows and paced part-timers (:func:`_pace_limited_staff`).
    Raises :class:`GenerateError` (a ValueError) for arguments it cannot use."""
    if fmt not in ("csv", "parquet"):
        raise GenerateError(f"fmt must be 'csv' or 'parquet', got {fmt!r}")
    if not 0 < tightness:
        raise GenerateError("tightness must be positive")
    if (
        isinstance(quarterly_cap, bool)
        or not isinstance(quarterly_cap, int | np.integer)
        or quarterly_cap < 1
    ):
        raise GenerateError(f"quarterly_cap must be a whole number of at least 1, got {quarterly_cap!r}")
    if province_staffing not in PROVINCE_STAFFING:
        raise GenerateError(f"province_staffing must be 'local' or 'delegated', got {province_staffing!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ext = "." + fmt
    ent_sink = _Sink(out / f"enterprises{ext}", ENTERPRISE_SCHEMA)
    hist_sink = _Sink(out / f"history{ext}", HISTORY_SCHEMA)

    def sink(ent: pd.DataFrame, hist: pd.DataFrame) -> None:
        ent_sink.write(ent)
        if len(hist):
            hist_sink.write(hist)

    busy = _busy(quarter, tightness, quarterly_cap)
    parts = _generate(
        enterprises,
        inspectors,
        cities,
        counties_per_city,
        quarter,
        seed,
        sink,
        pace_limit=busy,
        floor_every_county=province_staffing == "delegated",
    )
    ent_sink.close(list(ENTERPRISE_SCHEMA.names))
    hist_sink.close(list(HISTORY_SCHEMA.names))
    _write_table(parts.agencies, out / f"agencies{ext}")
    _write_table(parts.inspectors, out / f"inspectors{ext}")
    _write_table(parts.conflicts, out / f"conflicts{ext}")
    _write_table(parts.leave, out / f"leave{ext}")
    _write_table(_items_frame(), out / f"items{ext}")
    caps = capacities(parts.inspectors, parts.leave, quarter, quarterly_cap)
    plan, expected, achieved = _build_plan(
        parts.geo, parts.inspectors, caps, parts.summary, quarter, tightness, quarterly_cap, province_staffing
    )
    notes = []
    if province_staffing == "delegated":
        notes.append(
            "province and city tasks delegated (属地实施): staffed and counted by the county bureaus."
        )
    if busy:
        days = len(_workdays(*quarter_bounds(quarter)))
        notes.append(
            f"busy: about {tightness * quarterly_cap:.0f} visits per inspector in {days} working days, "
            "so every window is the whole quarter"
        )
        notes.append(
            f"and part-timers (daily cap 1) and expiring certificates are capped at {PACE:.0%} of their days."
        )
    (out / "plan.yaml").write_text(
        _plan_text(plan, expected, achieved, tightness, tuple(notes)), encoding="utf-8"
    )
    return out


# --------------------------------------------------------------------------- the sample county

SAMPLE_COUNTY = County("130123", "正定县", "130100", "石家庄", 38.1465, 114.5703, 30_000)
SAMPLE_STAFF = {"SJ130000": 5, "SJ130100": 14, "SJ130123": 160, "ST130000": 0, "ST130100": 6, "ST130123": 9}
SAMPLE_EXTRA_AUXILIARY = 14  # 协管员 among the county staff, besides the generator's own
SAMPLE_TIGHTNESS = 0.6
MAKE_UP_WORKDAYS = ("2026-02-14", "2026-02-28")


def _pick(rng: np.random.Generator, pool: list, n: int) -> list:
    """``n`` distinct items of ``pool`` (a sorted list), removed from it."""
    out = []
    for _ in range(n):
        out.append(pool.pop(int(rng.integers(0, len(pool)))))
    return out


def _inject_traps(
    ent: pd.DataFrame, hist: pd.DataFrame, parts: _Parts, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Plant one instance of every rule's trap in the sample county; return the traps."""
    county, city = SAMPLE_COUNTY, SAMPLE_COUNTY.city_code
    food_task, se_task, joint_task = f"T{county.code}-F", f"T{county.code}-S", f"T{county.code}-J"
    lead, city_agency, eco = f"SJ{county.code}", f"SJ{city}", f"ST{county.code}"
    staff = parts.inspectors
    referenced = set(staff["former_employers"]) | set(parts.conflicts["credit_code"])
    rel_ids = set(staff["relatives_ids"])
    in_food = ent["industry"].str.startswith(tuple(POP_FOOD[-1]))
    pool_mask = (
        in_food
        & ent["status"].eq("active")
        & ~ent["key_area"]
        & ~ent["credit_code"].isin(hist["credit_code"])
        & ~ent["credit_code"].isin(referenced)
        & ~ent["legal_rep_id"].isin(rel_ids)
    )
    pool = sorted(ent.loc[pool_mask, "credit_code"])
    names = [
        "relative_conflict",
        "former_employer_conflict",
        "declared_conflict",
        "rotation",
        "dedup_higher_level",
        "frequency_cap",
        "frequency_cap_exempt_d",
        "history_outside_lookback",
        "inactive_1",
        "inactive_2",
    ]
    codes = dict(zip(names, _pick(rng, pool, len(names)), strict=True))
    risk = {
        "rotation": "D",
        "dedup_higher_level": "D",
        "frequency_cap": "B",
        "frequency_cap_exempt_d": "D",
        "history_outside_lookback": "A",
    }
    pos = pd.Series(np.arange(len(ent)), index=ent["credit_code"])
    for name, code in codes.items():
        i = int(pos[code])
        ent.iat[i, ent.columns.get_loc("key_area")] = True
        if name in risk:
            ent.iat[i, ent.columns.get_loc("risk_class")] = risk[name]
    ent.iat[int(pos[codes["inactive_1"]]), ent.columns.get_loc("status")] = "吊销，未注销"
    ent.iat[int(pos[codes["inactive_2"]]), ent.columns.get_loc("status")] = "注销"

    # Trap inspectors: clean, certified county food inspectors, then one flaw each.
    busy = set(parts.leave["inspector_id"]) | set(parts.conflicts["inspector_id"])
    county_staff = staff[
        staff["agency_id"].eq(lead)
        & ~staff["auxiliary"]
        & staff["certificate_no"].ne("")
        & staff["certificate_expiry"].gt("2026-12-31")
        & staff["specialties"].str.contains("food")
        & staff["quarterly_cap"].eq("")
        & staff["daily_cap"].eq("")
        & staff["former_employers"].eq("")
        & staff["relatives_ids"].eq("")
        & ~staff["inspector_id"].isin(busy)
    ]
    ipool = sorted(county_staff["inspector_id"])
    inames = [
        "no_certificate",
        "certificate_expires_in_quarter",
        "certificate_expired",
        "auxiliary",
        "relative_conflict",
        "former_employer_conflict",
        "declared_conflict",
        "rotation_1",
        "rotation_2",
        "leave",
        "quarterly_cap_override",
        "wrong_specialty",
    ]
    who = dict(zip(inames, _pick(rng, ipool, len(inames)), strict=True))
    ipos = pd.Series(np.arange(len(staff)), index=staff["inspector_id"])

    def setv(name: str, col: str, value) -> None:
        staff.iat[int(ipos[who[name]]), staff.columns.get_loc(col)] = value

    setv("no_certificate", "certificate_no", "")
    setv("no_certificate", "certificate_expiry", "")
    setv("certificate_expires_in_quarter", "certificate_expiry", "2026-02-10")
    setv("certificate_expired", "certificate_expiry", "2025-12-15")
    setv("auxiliary", "auxiliary", True)
    setv("relative_conflict", "relatives_ids", ent.at[int(pos[codes["relative_conflict"]]), "legal_rep_id"])
    setv("former_employer_conflict", "former_employers", codes["former_employer_conflict"])
    setv("quarterly_cap_override", "quarterly_cap", "6")
    setv("wrong_specialty", "specialties", "pricing")

    # A few more auxiliary staff (协管员): no certificate of their own.
    others = sorted(
        set(staff.loc[staff["agency_id"].eq(lead) & ~staff["auxiliary"], "inspector_id"]) - set(who.values())
    )
    for iid in _pick(rng, others, SAMPLE_EXTRA_AUXILIARY):
        k = int(ipos[iid])
        staff.iat[k, staff.columns.get_loc("auxiliary")] = True
        staff.iat[k, staff.columns.get_loc("certificate_no")] = ""
        staff.iat[k, staff.columns.get_loc("certificate_expiry")] = ""

    conflicts = pd.concat(
        [
            parts.conflicts,
            pd.DataFrame(
                [(who["declared_conflict"], codes["declared_conflict"], "近亲属在该企业任职")],
                columns=parts.conflicts.columns,
            ),
        ],
        ignore_index=True,
    ).sort_values(["inspector_id", "credit_code"], ignore_index=True)
    leave = pd.concat(
        [
            parts.leave,
            pd.DataFrame([(who["leave"], "2026-03-02", "2026-03-15")], columns=parts.leave.columns),
        ],
        ignore_index=True,
    ).sort_values(["inspector_id", "start"], ignore_index=True)

    city_pair = ";".join(
        sorted(staff.loc[staff["agency_id"].eq(city_agency) & ~staff["auxiliary"], "inspector_id"])[:2]
    )
    eco_ids = sorted(staff.loc[staff["agency_id"].eq(eco) & ~staff["auxiliary"], "inspector_id"])
    rot_pair = ";".join(sorted([who["rotation_1"], who["rotation_2"]]))
    extra = pd.DataFrame(
        [
            (codes["rotation"], lead, "2025-09-16", rot_pair),
            (codes["dedup_higher_level"], city_agency, "2025-06-12", city_pair),
            (codes["frequency_cap"], eco, "2025-05-20", ";".join(eco_ids[:2])),
            (codes["frequency_cap_exempt_d"], eco, "2025-07-08", ";".join(eco_ids[2:4])),
            (codes["history_outside_lookback"], lead, "2024-11-05", rot_pair),
        ],
        columns=hist.columns,
    )
    hist = pd.concat([hist, extra], ignore_index=True).sort_values(
        ["credit_code", "date", "agency_id"], ignore_index=True
    )
    parts.conflicts, parts.leave, parts.inspectors = conflicts, leave, staff

    holidays = [d for d in pd.date_range("2026-02-15", "2026-02-23").date]
    traps = {
        "no_certificate": {
            "inspector_ids": [who["no_certificate"]],
            "rule": "an inspector without a certificate_no is on no visit",
        },
        "certificate_expires_in_quarter": {
            "inspector_ids": [who["certificate_expires_in_quarter"]],
            "expiry": "2026-02-10",
            "rule": "on no visit dated after the certificate expiry",
        },
        "certificate_expired": {
            "inspector_ids": [who["certificate_expired"]],
            "expiry": "2025-12-15",
            "rule": "certificate expired before the quarter: on no visit",
        },
        "auxiliary": {
            "inspector_ids": [who["auxiliary"]],
            "rule": "auxiliary staff (even with a certificate) are never a team member of record",
        },
        "relative_conflict": {
            "inspector_ids": [who["relative_conflict"]],
            "credit_codes": [codes["relative_conflict"]],
            "task_id": food_task,
            "rule": "relatives_ids holds the enterprise's legal_rep_id: not on its visit",
        },
        "former_employer_conflict": {
            "inspector_ids": [who["former_employer_conflict"]],
            "credit_codes": [codes["former_employer_conflict"]],
            "task_id": food_task,
            "rule": "former_employers holds the enterprise: not on its visit",
        },
        "declared_conflict": {
            "inspector_ids": [who["declared_conflict"]],
            "credit_codes": [codes["declared_conflict"]],
            "task_id": food_task,
            "rule": "declared in conflicts: not on its visit",
        },
        "rotation": {
            "inspector_ids": [who["rotation_1"], who["rotation_2"]],
            "credit_codes": [codes["rotation"]],
            "task_id": food_task,
            "agency_ids": [lead],
            "history_date": "2025-09-16",
            "rule": "D-class key-area enterprise (drawn for sure) inspected by these two within the "
            "lookback: neither is on its visit",
        },
        "leave": {
            "inspector_ids": [who["leave"]],
            "start": "2026-03-02",
            "end": "2026-03-15",
            "rule": "on no visit dated within the leave",
        },
        "dedup_higher_level": {
            "credit_codes": [codes["dedup_higher_level"]],
            "task_id": food_task,
            "agency_ids": [city_agency],
            "history_date": "2025-06-12",
            "rule": "D-class key-area enterprise inspected by the city bureau within the "
            "lookback: the county task does not draw it",
        },
        "frequency_cap": {
            "credit_codes": [codes["frequency_cap"]],
            "task_id": food_task,
            "agency_ids": [eco],
            "history_date": "2025-05-20",
            "rule": "B-class key-area enterprise with max_visits_per_enterprise visits (another "
            "department) within the lookback: drawn by no task",
        },
        "frequency_cap_exempt_d": {
            "credit_codes": [codes["frequency_cap_exempt_d"]],
            "task_id": food_task,
            "agency_ids": [eco],
            "history_date": "2025-07-08",
            "rule": "D-class is exempt from the frequency cap: key-area, so drawn",
        },
        "history_outside_lookback": {
            "credit_codes": [codes["history_outside_lookback"]],
            "task_id": food_task,
            "inspector_ids": [who["rotation_1"], who["rotation_2"]],
            "agency_ids": [lead],
            "history_date": "2024-11-05",
            "rule": "a visit older than lookback_days neither caps nor rotates: drawn",
        },
        "inactive": {
            "credit_codes": [codes["inactive_1"], codes["inactive_2"]],
            "task_id": food_task,
            "rule": "key-area but not active (revoked, cancelled): drawn by no task",
        },
        "quarterly_cap_override": {
            "inspector_ids": [who["quarterly_cap_override"]],
            "quarterly_cap": 6,
            "rule": "at most 6 visits this quarter (policy says 30)",
        },
        "wrong_specialty": {
            "inspector_ids": [who["wrong_specialty"]],
            "specialties": ["pricing"],
            "task_id": food_task,
            "rule": "holds no food specialty: every food-task visit has another member with food",
        },
        "spring_festival": {
            "holidays": [d.isoformat() for d in holidays],
            "make_up_workdays": list(MAKE_UP_WORKDAYS),
            "task_ids": [food_task, se_task, joint_task],
            "rule": "no visit on a holiday; the 调休 Saturdays are working days",
        },
        "joint_task": {
            "task_id": joint_task,
            "agency_ids": [lead, eco],
            "rule": "every visit of the joint task has one inspector of each department",
        },
    }
    return ent, hist, traps


def _normalise_xlsx(path: Path) -> None:
    """Fixed zip timestamps and document dates, so the workbook's bytes are reproducible."""
    stamp = "2026-01-01T00:00:00Z"
    with zipfile.ZipFile(path) as z:
        entries = [(info.filename, z.read(info.filename)) for info in z.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            if name == "docProps/core.xml":
                text = data.decode("utf-8")
                for tag in ("dcterms:created", "dcterms:modified"):
                    start = text.find(f"<{tag}")
                    if start >= 0:
                        open_end = text.index(">", start) + 1
                        close = text.index(f"</{tag}>", open_end)
                        text = text[:open_end] + stamp + text[close:]
                data = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            z.writestr(info, data)
    path.write_bytes(buf.getvalue())


def _write_inspectors_xlsx(staff: pd.DataFrame, path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "inspectors"
    ws.append(INSPECTOR_COLUMNS)
    for r in staff.itertuples(index=False):
        row = []
        for col, v in zip(INSPECTOR_COLUMNS, r, strict=True):
            if col == "certificate_expiry":
                row.append(dt.date.fromisoformat(v) if v else None)
            elif col in ("quarterly_cap", "daily_cap"):
                row.append(int(v) if v else None)
            elif col == "auxiliary":
                row.append(bool(v))
            else:
                row.append(v if v != "" else None)
        ws.append(row)
    for cell in ws["E"][1:]:
        cell.number_format = "yyyy-mm-dd"
    wb.properties.creator = "randinspect data.generate"
    wb.save(path)
    _normalise_xlsx(path)


def _status_forms(ent: pd.DataFrame) -> pd.Series:
    """登记状态 as exports write it: 'active' becomes one of :data:`ACTIVE_FORMS`, picked by the
    credit code's 17th character (no draw from the generator's random stream, so the sample's other
    columns stay as they were)."""
    pick = ent["credit_code"].str[16].map(lambda c: _ALPHA_INDEX[c] % len(ACTIVE_FORMS))
    forms = pick.map(lambda k: ACTIVE_FORMS[k])
    return ent["status"].where(ent["status"].ne("active"), forms)


def _labelled(df: pd.DataFrame, table: str) -> pd.DataFrame:
    from scheduler.tables import HEADER_LABELS

    return df.rename(columns=HEADER_LABELS[table])


def build_sample(out_dir: str | Path = SAMPLE_DIR) -> Path:
    """Write the bundled sample county (正定县, 2026Q1) with its traps into ``out_dir``."""
    import chinese_calendar

    for d in MAKE_UP_WORKDAYS:
        day = dt.date.fromisoformat(d)
        assert day.weekday() == 5 and chinese_calendar.is_workday(day), f"{d} is not a 调休 working Saturday"
    assert not chinese_calendar.is_workday(dt.date(2026, 2, 17)), "2026-02-17 (春节) should be a holiday"

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    chunks: list[tuple[pd.DataFrame, pd.DataFrame]] = []
    county = County(**{**SAMPLE_COUNTY.__dict__})
    geo = Geography([("130100", "石家庄", 38.0428, 114.5149)], [county])
    parts = _generate(
        county.enterprises,
        0,
        1,
        1,
        "2026Q1",
        SAMPLE_SEED,
        lambda e, h: chunks.append((e, h)),
        inspector_counts=lambda g: dict(SAMPLE_STAFF),
        geography=geo,
    )
    ent, hist = chunks[0]
    rng = np.random.Generator(np.random.PCG64(SAMPLE_SEED + 1))
    ent, hist, traps = _inject_traps(ent.copy(), hist.copy(), parts, rng)
    summary = _summary(ent, hist, "2026Q1", parts.agencies)
    caps = capacities(parts.inspectors, parts.leave, "2026Q1")
    plan, expected, achieved = _build_plan(geo, parts.inspectors, caps, summary, "2026Q1", SAMPLE_TIGHTNESS)

    agencies = parts.agencies.copy()
    agencies["level"] = agencies["level"].map({"province": "省", "city": "市", "county": "县"})
    _csv_ready(_labelled(agencies, "agencies")).to_csv(
        out / "agencies.csv", index=False, encoding="gb18030", lineterminator="\n"
    )
    ent = ent.assign(status=_status_forms(ent))
    _csv_ready(_labelled(ent, "enterprises")).to_csv(
        out / "enterprises.csv", index=False, encoding="utf-8-sig", lineterminator="\n"
    )
    _write_inspectors_xlsx(parts.inspectors, out / "inspectors.xlsx")
    for name, df in (
        ("conflicts", parts.conflicts),
        ("history", hist),
        ("leave", parts.leave),
        ("items", _items_frame()),
    ):
        _csv_ready(df).to_csv(out / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")
    (out / "plan.yaml").write_text(_plan_text(plan, expected, achieved, SAMPLE_TIGHTNESS), encoding="utf-8")
    (out / "traps.json").write_text(json.dumps(traps, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out


# --------------------------------------------------------------------------- command line


def add_generate_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The options of ``python -m data.generate`` and ``randinspect generate`` (one definition)."""
    parser.add_argument(
        "out_dir", nargs="?", type=Path, help="folder to write (default for --sample: data/sample_county)"
    )
    parser.add_argument("--sample", action="store_true", help="build the bundled sample county")
    parser.add_argument("--enterprises", type=int, default=50_000)
    parser.add_argument("--inspectors", type=int, default=240, help="about this many (all agencies)")
    parser.add_argument("--cities", type=int, default=1)
    parser.add_argument("--counties-per-city", type=int, default=1)
    parser.add_argument("--quarter", default="2026Q1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--tightness", type=float, default=0.7, help="expected inspector-visits / eligible capacity"
    )
    parser.add_argument("--format", "--fmt", dest="fmt", choices=("csv", "parquet"), default="csv")
    parser.add_argument(
        "--quarterly-cap",
        type=int,
        default=POLICY_CAP,
        help=f"the plan's policy: visits per inspector per quarter (default {POLICY_CAP})",
    )
    parser.add_argument(
        "--province-staffing",
        choices=PROVINCE_STAFFING,
        default="local",
        help="staffing of the province and city tasks; delegated (属地实施): the county bureau",
    )
    return parser


def generate_from_args(args: argparse.Namespace) -> Path:
    """Run what :func:`add_generate_arguments`' options ask for; the folder written.
    Raises GenerateError (a ValueError) for a bad combination (no folder without --sample, bad numbers)."""
    if args.sample:
        return build_sample(args.out_dir or SAMPLE_DIR)
    if not args.out_dir:
        raise GenerateError("give OUT_DIR or --sample")
    return generate_registry(
        args.out_dir,
        enterprises=args.enterprises,
        inspectors=args.inspectors,
        cities=args.cities,
        counties_per_city=args.counties_per_city,
        quarter=args.quarter,
        seed=args.seed,
        tightness=args.tightness,
        fmt=args.fmt,
        quarterly_cap=args.quarterly_cap,
        province_staffing=args.province_staffing,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.generate", description=__doc__.splitlines()[0])
    args = add_generate_arguments(parser).parse_args(argv)
    try:
        path = generate_from_args(args)
    except GenerateError as exc:
        parser.error(str(exc))
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
