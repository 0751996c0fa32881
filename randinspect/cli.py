"""The ``randinspect`` command line (contract: demo, plan, verify; plus generate).

Exit status: 0 done; 1 verify found a difference; 2 bad input (file, row and
column named); 3 infeasible (task, rule and numbers named). Every text it shows comes from
:mod:`scheduler.messages`: Chinese unless ``--lang en`` (or an English locale) is chosen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import NoReturn

from data import DEMO_SEED, sample_dir
from scheduler import cells
from scheduler.audit import verify_log
from scheduler.days import parse_day, parse_range
from scheduler.errors import InfeasibleError, InputError, Problem
from scheduler.messages import LANGS, set_language, t
from scheduler.outputs import MANIFEST, check_out_folder, read_manifest, sha256_file, write_outputs
from scheduler.pipeline import run_plan


def _arg(option: str, message: str) -> InputError:
    """Bad input on the command line, naming the option."""
    return InputError(Problem(t("cmdline"), None, option, message))


def _day(option: str, value: str) -> dt.date:
    try:
        return parse_day(value)
    except ValueError as exc:
        raise _arg(option, str(exc)) from None


def _summary(result, out: Path, seconds: float) -> str:
    s = result.staffing
    loads = [n for i, n in s.load.items() if s.capacity.get(i, 0) > 0 and n > 0]
    lines = [
        t("sum_quarter", quarter=result.plan.quarter, seed=result.seed),
        t("sum_drawn", selected=len(result.selection), strata=len(result.strata), tasks=len(result.plan.tasks)),
        t("sum_visits", visits=len(result.visits), max_p=f"{s.max_pair_probability:.3f}",
          cap=s.pair_probability_cap, lo=min(loads, default=0), hi=max(loads, default=0)),
        t("sum_stages", stages="，".join(f"{k} {v:.2f}s" for k, v in result.timings.items()), total=f"{seconds:.2f}"),
    ]
    lines += [t("sum_warning", warning=w) for w in result.warnings]
    lines += _exclusion_lines(result)
    lines += [
        t("sum_outputs", out=out),
        f"  {out / 'selection.csv'}",
        f"  {out / 'visits.csv'}",
        f"  {out / 'publication.csv'}",
        "  " + t("sum_notices", path=out / "notices", n=len(result.visits)),
        f"  {out / 'report.html'}",
        f"  {out / 'manifest.json'}",
    ]
    return "\n".join(lines)


def _exclusion_lines(result) -> list[str]:
    """Per task, how the jurisdiction shrank to the frame drawn from (no silent emptiness)."""
    from scheduler.draw import frame_text

    return [t("summary_exclusions")] + [t("summary_exclusion_line", task=f.task_id, counts=frame_text(f)) for f in result.frames]


def cmd_plan(
    registry: Path,
    plan_file: Path,
    seed: str | None,
    out: Path,
    calendar: Path | None,
    commitment: Path | None = None,
    beacon: str | None = None,
    keep_order: bool = False,
    executor: str | None = None,
    mapping: Path | None = None,
    replace: bool = False,
) -> int:
    """Draw, staff, date and write; the seed is typed (``test``) or derived from a commitment
    and public numbers (``public``). The audit record gets an import and a draw record.
    ``executor`` (``local``, ``processes[:N]``, ``dask://HOST:PORT``; default
    ``$RANDINSPECT_EXECUTOR`` or local) runs the independent parts; the outputs do not depend on it.
    ``out`` must be new, empty or a run folder (:func:`scheduler.outputs.check_out_folder`);
    ``replace`` moves an old run with people's records aside."""
    from scheduler.executor import ENV_EXECUTOR, make_executor
    from scheduler.importer import registry_files
    from scheduler.runfolder import audit_log
    from scheduler.seed import check_commitment, derive_seed

    started = time.perf_counter()
    check_out_folder(out, replace)  # before any work: a refused folder is not touched
    extra: dict = {"seed_kind": "test"}
    if commitment is not None:
        if not beacon:
            raise _arg("--beacon", t("need_beacon"))
        try:
            doc = json.loads(Path(commitment).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputError(Problem(str(commitment), None, None, t("unreadable_json", error=exc))) from None
        files = registry_files(registry, mapping)  # the run below reads and checks them
        cal = calendar or (Path(registry) / "calendar.csv" if (Path(registry) / "calendar.csv").exists() else None)
        if cal:
            files["calendar"] = Path(cal)
        check_commitment(doc, files, Path(plan_file), Path(commitment).name)
        try:
            seed, key = derive_seed(doc["commitment"], beacon, keep_order)
        except ValueError as exc:
            raise _arg("--beacon", str(exc)) from None
        extra = {"seed_kind": "public", "commitment": doc, "beacon": beacon, "key_string": key}
    elif seed is None:
        raise _arg("--seed", t("need_seed"))
    spec = executor or os.environ.get(ENV_EXECUTOR) or "local"
    try:
        ex = make_executor(spec)
    except (ValueError, RuntimeError, OSError, TimeoutError) as exc:
        raise _arg("--executor", f"{spec}: {exc}") from None
    try:
        result = run_plan(
            registry, plan_file, seed, calendar_file=calendar, seed_kind=extra["seed_kind"], executor=ex, mapping=mapping
        )
    finally:
        ex.close()
    t_out = time.perf_counter()
    write_outputs(result, out, registry, plan_file, extra, new_run=True, replace=replace)
    result.timings["outputs"] = time.perf_counter() - t_out
    manifest = read_manifest(out)
    log = audit_log(out)
    replaced = manifest.get("replaces")
    log.append("import", {"inputs": manifest["inputs"], "plan": manifest["plan"],
                          **({"replaces": replaced} if replaced else {})})
    log.append(
        "draw",
        {
            "seed": seed,
            "seed_kind": extra["seed_kind"],
            "commitment": extra.get("commitment", {}).get("commitment"),
            "visits": len(result.visits),
            "selected": len(result.selection),
            "manifest_sha256": sha256_file(Path(out) / MANIFEST),
        },
    )
    print(_summary(result, out.resolve(), time.perf_counter() - started))
    if replaced:
        print(t("replaced_old", folder=Path(out).resolve().parent / replaced["folder"]))
    if extra["seed_kind"] == "test":
        print(t("test_seed_note"))
    print(t("audit_head", head=log.head()))
    return 0


def _print_head(out: Path) -> None:
    from scheduler.runfolder import audit_log

    print(t("audit_head", head=audit_log(out).head()))


def cmd_commit(
    registry: Path, plan_file: Path, source: str, out: Path, calendar: Path | None, mapping: Path | None = None
) -> int:
    """Commit to the inputs before the public numbers exist (RFC 3797 style)."""
    from importlib import metadata

    from scheduler.importer import load_registry
    from scheduler.outputs import inspect_out_folder
    from scheduler.plan import load_plan
    from scheduler.runfolder import audit_log
    from scheduler.seed import commitment_document, commitment_hash

    state = inspect_out_folder(out)
    if state.kind != "new":
        raise _arg("--out", t("commit_out_exists"))
    reg = load_registry(registry, mapping)
    plan = load_plan(plan_file)
    files = dict(reg.files)
    cal = calendar or (Path(registry) / "calendar.csv" if (Path(registry) / "calendar.csv").exists() else None)
    if cal:
        files["calendar"] = Path(cal)
    doc = commitment_document(files, Path(plan_file), plan.quarter, source, metadata.version("randinspect"))
    doc["commitment"] = commitment_hash(doc)
    out.mkdir(parents=True, exist_ok=True)
    (out / "commitment.json").write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    audit_log(out).append("commit", {"commitment": doc["commitment"], "source": source, "quarter": plan.quarter,
                                     "sha256": sha256_file(out / "commitment.json")})
    print(t("commit_done", commitment=doc["commitment"]))
    print(t("commit_next", source=source))
    again = f" --mapping {mapping}" if mapping else ""
    print(f"  randinspect plan {registry} {plan_file}{again} --commitment {out / 'commitment.json'} --beacon '…' --out {out}")
    _print_head(out)
    return 0


def _strata_rows(out: Path) -> list[dict[str, str]]:
    import csv

    path = Path(out) / "strata.csv"
    if not path.is_file():
        raise InputError(Problem(str(path), None, None, t("file_not_found")))
    with open(path, encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def cmd_check_ticket(out: Path | None, task: str, code: str, seed: str | None, stratum: str | None, threshold: str | None) -> int:
    """Any enterprise can check its own draw: its ticket against its stratum's threshold."""
    from scheduler.tickets import ticket
    from scheduler.uscc import uscc_problem

    problem = uscc_problem(code.strip().upper())
    if problem:
        raise _arg("--credit-code", t("bad_credit_code", code=code, why=problem))
    code = code.strip().upper()
    if threshold is not None and not (len(threshold) == 64 and all(c in "0123456789abcdef" for c in threshold.lower())):
        raise _arg("--threshold", t("bad_threshold", value=threshold))
    rows = []
    if out is not None:
        if seed is None:
            seed = read_manifest(out)["seed"]
        every = _strata_rows(out)
        rows = [r for r in every if r["task_id"] == task]
        if not rows:
            known = sorted({r["task_id"] for r in every})
            raise _arg("--task", t("unknown_task", task=task, known="、".join(known)))
    if seed is None:
        raise _arg("--seed", t("need_seed_or_folder"))
    tk = ticket(seed, task, code)
    print(t("ticket_is", seed=seed, task=task, code=code, ticket=tk))
    if threshold:
        rows = [{"stratum": stratum or "?", "threshold": threshold.lower(), "sample_size": "", "population_size": ""}]
    if stratum:
        chosen = [r for r in rows if r["stratum"] == stratum]
        if not chosen:
            raise _arg("--stratum", t("unknown_stratum", stratum=stratum, task=task))
        rows = chosen
    if not rows:
        print(t("no_threshold"))
        return 0
    for r in rows:
        if r["stratum"] == "key_area":
            verdict = t("verdict_key_area")
        elif not r["threshold"]:
            verdict = t("verdict_none_drawn")
        else:
            verdict = t("verdict_drawn") if tk <= r["threshold"] else t("verdict_not_drawn")
        print(t("ticket_stratum", stratum=r["stratum"], threshold=r["threshold"] or "-", verdict=verdict))
    return 0


def cmd_check_publication(out: Path) -> int:
    """What a third party can check from the published files alone: the seed's derivation,
    every published enterprise's ticket, and the counts per task against the strata."""
    from collections import Counter, defaultdict

    from scheduler.seed import commitment_hash, derive_seed
    from scheduler.tickets import ticket

    manifest = read_manifest(out)
    seed = manifest["seed"]
    problems = []
    if manifest.get("seed_kind") == "public":
        doc = manifest["commitment"]
        if commitment_hash(doc) != doc["commitment"] or derive_seed(doc["commitment"], manifest["beacon"])[0] != seed:
            problems.append(t("verify_seed_not_derived"))
    else:
        print(t("test_seed_publication"))
    strata = _strata_rows(out)
    limits: dict[str, list[str]] = defaultdict(list)
    expected: Counter = Counter()
    keyed: Counter = Counter()
    for r in strata:
        expected[r["task_id"]] += int(r["sample_size"])
        if r["stratum"] == "key_area":
            keyed[r["task_id"]] += int(r["sample_size"])
        elif r["threshold"]:
            limits[r["task_id"]].append(r["threshold"])
    pub_path = Path(out) / "publication.csv"
    if not pub_path.is_file():
        raise InputError(Problem(str(pub_path), None, None, t("file_not_found")))
    with open(pub_path, encoding="utf-8-sig") as fh:
        rows = list(cells.dict_reader(fh))
    randomly: Counter = Counter()
    key: Counter = Counter()
    for r in rows:
        task = r["task_id"]
        if r.get("drawn_as") == "重点领域":
            key[task] += 1
            continue
        randomly[task] += 1
        tk = ticket(seed, task, r["credit_code"])
        if not limits[task] or tk > max(limits[task]):
            problems.append(t("pub_ticket_above", task=task, code=r["credit_code"], ticket=tk[:12]))
    for task in sorted(expected):
        if key[task] != keyed[task]:
            problems.append(t("pub_key_count", task=task, published=key[task], expected=keyed[task]))
        if randomly[task] != expected[task] - keyed[task]:
            problems.append(t("pub_random_count", task=task, published=randomly[task], expected=expected[task] - keyed[task]))
    if problems:
        print(t("pub_not_ok"), file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    how = t("pub_seed_derived") if manifest.get("seed_kind") == "public" else t("pub_seed_given")
    print(t("pub_ok", how=how, rows=len(rows), tasks=len(expected)))
    return 0


def _print_outcome(o, inspector: str) -> None:
    moved = "" if o.date_after == o.date_before else t("recusal_moved", before=o.date_before, after=o.date_after)
    print(t("recusal_done", seq=o.seq, inspector=inspector, visit=o.visit_id, replacement=o.replacement,
            candidates=o.candidates, moved=moved))


def cmd_recuse(out: Path, visit: str, inspector: str, by: str, reason: str) -> int:
    from scheduler.recusal import RecusalRequest
    from scheduler.runfolder import recuse, visit_dates

    read_manifest(out)
    if visit not in visit_dates(out):
        raise _arg("--visit", t("no_such_visit", visit=visit))
    (o,) = recuse(out, RecusalRequest(visit, inspector, by, reason), actor=by)
    _print_outcome(o, o.removed)
    _print_head(out)
    return 0


def cmd_absent(out: Path, inspector: str, start: str, end: str | None, reason: str) -> int:
    """An inspector who falls ill: replaced on every visit from ``start`` (to ``end``)."""

    from scheduler.recusal import RecusalRequest
    from scheduler.runfolder import recuse

    lo = _day("--from", start)
    hi_or_none = _day("--to", end) if end else None
    try:
        parse_range(lo.isoformat(), hi_or_none.isoformat() if hi_or_none else None)
    except ValueError as exc:
        raise _arg("--from/--to", str(exc)) from None
    hi = hi_or_none or dt.date.max
    read_manifest(out)
    with open(Path(out) / "visits.csv", encoding="utf-8") as fh:
        rows = list(cells.dict_reader(fh))
    if not any(inspector in r["inspector_ids"].split(";") for r in rows):
        raise _arg("--inspector", t("no_such_inspector", inspector=inspector))
    todo = [
        r["visit_id"]
        for r in rows
        if inspector in r["inspector_ids"].split(";") and lo <= dt.date.fromisoformat(r["date"]) <= hi
    ]
    requests = [
        RecusalRequest(v, inspector, "bureau", reason, lo.isoformat(), hi_or_none.isoformat() if hi_or_none else "")
        for v in todo
    ]
    outcomes = recuse(out, requests, actor="bureau") if todo else []
    for o in outcomes:
        _print_outcome(o, inspector)
    if not todo:
        print(t("absent_no_visit", inspector=inspector))
    _print_head(out)
    return 0


def cmd_result(out: Path, visit: str, category: str, note: str) -> int:
    from scheduler.runfolder import enter_result

    e = enter_result(out, visit, category, note)
    print(t("result_recorded", visit=e.visit_id, category=e.category))
    _print_head(out)
    return 0


def cmd_publish(out: Path, visits: list[str], on: str | None, fmt: str = "csv") -> int:
    from scheduler.runfolder import publish_results, write_gsxt

    day = _day("--date", on) if on else dt.date.today()
    read_manifest(out)
    done = publish_results(out, day, visits or None)
    print(t("published", n=len(done), day=day, path=Path(out) / "results_publication.csv"))
    if fmt == "gsxt":
        csv_path, xlsx_path, rows = write_gsxt(out)
        print(t("gsxt_written", rows=rows, csv=csv_path, xlsx=xlsx_path))
    _print_head(out)
    return 0


def cmd_overdue(out: Path, today: str | None) -> int:
    from scheduler.inspection_results import state_text
    from scheduler.runfolder import overdue_results

    day = _day("--today", today) if today else dt.date.today()
    read_manifest(out)
    rows = overdue_results(out, day)
    for visit_id, date, due, state in rows:
        print(t("overdue_row", visit=visit_id, date=date, due=due, state=state_text(state)))
    print(t("overdue_total", n=len(rows), day=day))
    return 0


def cmd_audit_verify(out: Path, head: str | None) -> int:
    folder = Path(out)
    if head is not None and not re.fullmatch(r"[0-9a-f]{64}", head.strip().lower()):
        raise _arg("--head", t("bad_head", value=head))
    if not folder.is_dir():
        raise InputError(Problem(str(folder), None, None, t("run_folder_missing")))
    log = folder / "audit.jsonl"
    if not log.is_file():
        print(t("audit_broken", message=t("verify_no_record", name=log)), file=sys.stderr)
        return 1
    report = verify_log(log, head)
    if report.ok:
        print(t("audit_ok", count=report.count, head=report.head))
        return 0
    print(t("audit_broken", message=report.message), file=sys.stderr)
    return 1


def cmd_verify(out: Path, registry: Path | None = None) -> int:
    """Every file of the run: outputs by re-running, later changes through the record."""
    from scheduler.runfolder import verify_run

    if registry is not None and not Path(registry).is_dir():
        raise _arg("--registry", t("run_folder_missing"))
    found = verify_run(Path(out), registry)
    if found.problems:
        print(t("not_verified"), file=sys.stderr)
        for p in found.problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(t("verified", kind=t("seed_kind_" + found.seed_kind), seed=found.seed, outputs=found.outputs,
            recusals=t("verified_recusals", n=found.recusals) if found.recusals else "",
            records=found.records,
            ledger=t("verified_ledger", files="、".join(found.ledger)) if found.ledger else ""))
    return 0


def cmd_serve(host: str, port: int, workers: int) -> int:
    """Run the service (uvicorn on ``api.main:create_app``); the database is brought to the
    current schema first (the default is ``./randinspect.db``, SQLite)."""
    import uvicorn

    from api.migrate import upgrade
    from api.settings import get_settings

    if not 1 <= port <= 65535:
        raise _arg("--port", t("bad_port", port=port))
    if workers < 1:
        raise _arg("--workers", t("bad_workers", workers=workers))
    _check_port_free(host, port)
    settings = get_settings()
    upgrade(settings.database_url)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    base = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    print(t("serve_on", base=base, database=_redacted(settings.database_url)))
    print(t("serve_docs", base=base))
    sys.stdout.flush()
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, workers=workers)
    return 0


def _check_port_free(host: str, port: int) -> None:
    """A busy port or an unknown host is bad input (exit 2), found before anything starts."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise _arg("--host", t("bad_host", host=host, error=exc)) from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise _arg("--port", t("port_busy", host=host, port=port, error=exc.strerror or exc)) from None


def cmd_demo_load(accounts: bool = False) -> int:
    """``demo --load``: the sample county, a drawn plan and its publication, stored by the
    service's own API (see ``api.demo_load``) in the configured database."""
    from api.demo_load import DemoLoadError, load_demo, summary

    try:
        load = load_demo(say=lambda m: print(m, flush=True), accounts=accounts)
    except DemoLoadError as exc:
        print(t("demo_load_failed", error=exc), file=sys.stderr)
        return 1
    print(summary(load, _redacted(load.database_url)))
    return 0


def _redacted(url: str) -> str:
    """The database URL without its password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def _read_password(from_stdin: bool) -> str:
    import getpass

    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(t("pw_prompt"))
    second = getpass.getpass(t("pw_again"))
    if first != second:
        raise InputError(Problem(t("cmdline"), None, "password", t("pw_differ")))
    return first


def _service_session():
    """(write session factory, engine, url) of the service's database, brought up to date."""
    from api.db import make_engine, session_factory
    from api.migrate import upgrade
    from api.settings import get_settings

    url = get_settings().database_url
    upgrade(url)
    engine = make_engine(url)
    return session_factory(engine, write=True), engine, url


def _check_password(password: str, name: str) -> None:
    """The service's rules for every new password (api.throttle.password_problem)."""
    from api.throttle import password_problem

    if problem := password_problem(password, name):
        raise InputError(Problem(t("cmdline"), None, "password", problem))
    if "\x00" in password:
        raise InputError(Problem(t("cmdline"), None, "password", t("pw_nul")))


def cmd_user_add(name: str, role: str, agency: str, password_stdin: bool) -> int:
    """Create an account of ``agency`` (in the agency tree; the first admin is made here)."""
    from sqlalchemy import select

    from api.audit_store import append
    from api.models import AgencyRecord, User
    from api.security import hash_password

    if not name or len(name) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InputError(Problem(t("cmdline"), None, "NAME", t("user_name_bad")))
    password = _read_password(password_stdin)
    _check_password(password, name)
    sessions, engine, url = _service_session()
    try:
        with sessions() as session:
            if session.get(AgencyRecord, agency) is None:
                raise InputError(
                    Problem(t("cmdline"), None, "--agency", t("agency_not_in_tree_load", agency=agency))
                )
            if session.scalar(select(User.id).where(User.username == name)) is not None:
                raise InputError(Problem(t("cmdline"), None, "NAME", t("user_exists", name=name)))
            session.add(User(username=name, role=role, agency_id=agency, password_hash=hash_password(password), active=True))
            append(session, "note", {"event": "account created", "username": name, "role": role, "agency_id": agency},
                   "command line", agency)
            session.commit()
    finally:
        engine.dispose()
    print(t("user_created", role=role, name=name, agency=agency, db=_redacted(url)))
    return 0


def _account(session, name: str):
    from sqlalchemy import select

    from api.models import User

    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        raise InputError(Problem(t("cmdline"), None, "NAME", t("no_user", name=name)))
    return user


def _change_account(name: str, event: str, **changes) -> str:
    """Set ``changes`` on the account ``name``, revoke its tokens and record ``event`` (one
    transaction); the database's URL."""
    from sqlalchemy import delete

    from api.audit_store import append
    from api.models import ApiToken

    sessions, engine, url = _service_session()
    try:
        with sessions() as session:
            user = _account(session, name)
            for key, value in changes.items():
                setattr(user, key, value)
            session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
            append(session, "note", {"event": event, "username": name}, "command line", user.agency_id)
            session.commit()
    finally:
        engine.dispose()
    return url


def cmd_user_disable(name: str) -> int:
    """Disable an account; its tokens are revoked (audited)."""
    url = _change_account(name, "account disabled", active=False)
    print(t("user_disabled", name=name, db=_redacted(url)))
    return 0


def cmd_user_password(name: str, password_stdin: bool) -> int:
    """Set an account's password; its tokens are revoked (audited)."""
    from api.security import hash_password

    password = _read_password(password_stdin)
    _check_password(password, name)
    url = _change_account(name, "password set", password_hash=hash_password(password))
    print(t("user_password_set", name=name, db=_redacted(url)))
    return 0


def cmd_agencies_load(path: Path) -> int:
    """Load (add to or update) the service's agency tree from an agencies table."""
    from sqlalchemy import func, select

    from api.agencies import load_tree
    from api.audit_store import append
    from api.models import AgencyRecord

    if not Path(path).is_file():
        raise InputError(Problem(Path(path).name, None, None, t("file_not_found")))
    sessions, engine, url = _service_session()
    try:
        with sessions() as session:
            added, updated = load_tree(session, Path(path))
            append(session, "note", {"event": "agency tree loaded", "file": Path(path).name, "added": added,
                                     "updated": updated}, "command line")
            total = session.scalar(select(func.count()).select_from(AgencyRecord))
            session.commit()
    finally:
        engine.dispose()
    print(t("tree_loaded", db=_redacted(url), added=added, updated=updated, total=total))
    return 0


def cmd_agencies_adopt(agency: str) -> int:
    """Give every account, registry, plan and audit record made before the agency tree existed
    (no agency) to ``agency``: until then they are in no scope."""
    from sqlalchemy import update

    from api.models import AgencyRecord, AuditRecordRow, PlanRecord, RegistryRecord, User

    sessions, engine, url = _service_session()
    try:
        with sessions() as session:
            if session.get(AgencyRecord, agency) is None:
                raise InputError(Problem(t("cmdline"), None, "AGENCY_ID", t("agency_not_in_tree", agency=agency)))
            counts = {
                model.__tablename__: session.execute(
                    update(model).where(model.agency_id.is_(None)).values(agency_id=agency)
                ).rowcount
                for model in (User, RegistryRecord, PlanRecord, AuditRecordRow)
            }
            session.commit()
    finally:
        engine.dispose()
    print(t("adopted", agency=agency, db=_redacted(url), counts="，".join(f"{table} {n}" for table, n in counts.items())))
    return 0


class _Formatter(argparse.HelpFormatter):
    """Help in the chosen language: the usage line's prefix comes from the catalogue."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix if prefix is not None else t("usage_prefix"))


_ARGPARSE = (
    (re.compile(r"the following arguments are required: (.*)"), "argparse_required"),
    (re.compile(r"unrecognized arguments: (.*)"), "argparse_unrecognized"),
    (re.compile(r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)"), "argparse_choice"),
    (re.compile(r"argument (\S+): expected one argument"), "argparse_one_value"),
    (re.compile(r"argument (\S+): invalid (\w+) value: (.*)"), "argparse_bad_value"),
    (re.compile(r"argument (\S+): not allowed with argument (.*)"), "argparse_not_with"),
    (re.compile(r"ambiguous option: (\S+) could match (.*)"), "argparse_ambiguous"),
    (re.compile(r"argument (\S+): (.*)"), "argparse_argument"),
)


def translate_argparse(message: str) -> str:
    """argparse's own error message in the current language (its text is English only)."""
    for pattern, key in _ARGPARSE:
        m = pattern.fullmatch(message)
        if m:
            return t(key, **{f"a{i}": v for i, v in enumerate(m.groups())})
    return message


class Parser(argparse.ArgumentParser):
    """argparse with errors and help in the chosen language; a usage mistake is exit 2."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = t("positionals_title")
        self._optionals.title = t("optionals_title")
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS, help=t("h_help"))

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, t("usage_error", prog=self.prog, message=translate_argparse(message)) + "\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="randinspect", description=t("h_description"))
    parser.add_argument("--lang", choices=LANGS, help=t("h_lang"))
    sub = parser.add_subparsers(dest="command", required=True, title=t("commands_title"), metavar="COMMAND")
    demo = sub.add_parser("demo", help=t("h_demo"))
    demo.add_argument("--out", type=Path, default=Path("randinspect-demo"), help=t("h_out"))
    demo.add_argument("--replace", action="store_true", help=t("h_replace"))
    demo.add_argument("--executor", help=t("h_executor"))
    demo.add_argument("--load", action="store_true", help=t("h_demo_load"))
    demo.add_argument("--accounts", action="store_true", help=t("h_accounts"))
    plan = sub.add_parser("plan", help=t("h_plan"))
    plan.add_argument("registry", type=Path, help=t("h_registry"))
    plan.add_argument("plan_file", type=Path, help=t("h_plan_file"))
    plan.add_argument("--seed", help=t("h_seed"))
    plan.add_argument("--commitment", type=Path, help=t("h_commitment"))
    plan.add_argument("--beacon", help=t("h_beacon"))
    plan.add_argument("--beacon-keep-order", action="store_true", help=t("h_keep_order"))
    plan.add_argument("--out", type=Path, required=True, help=t("h_out"))
    plan.add_argument("--replace", action="store_true", help=t("h_replace"))
    plan.add_argument("--calendar", type=Path, help=t("h_calendar"))
    plan.add_argument("--executor", help=t("h_executor"))
    plan.add_argument("--mapping", type=Path, help=t("h_mapping"))
    commit = sub.add_parser("commit", help=t("h_commit"))
    commit.add_argument("registry", type=Path, help=t("h_registry"))
    commit.add_argument("plan_file", type=Path, help=t("h_plan_file"))
    commit.add_argument("--source", required=True, help=t("h_source"))
    commit.add_argument("--out", type=Path, required=True, help=t("h_commit_out"))
    commit.add_argument("--calendar", type=Path, help=t("h_calendar"))
    commit.add_argument("--mapping", type=Path, help=t("h_mapping"))
    ct = sub.add_parser("check-ticket", help=t("h_check_ticket"))
    ct.add_argument("out", type=Path, nargs="?", help=t("h_published_folder"))
    ct.add_argument("--task", required=True, help=t("h_task"))
    ct.add_argument("--credit-code", required=True, help=t("h_credit_code"))
    ct.add_argument("--seed", help=t("h_ticket_seed"))
    ct.add_argument("--stratum", help=t("h_stratum"))
    ct.add_argument("--threshold", help=t("h_threshold"))
    cp = sub.add_parser("check-publication", help=t("h_check_publication"))
    cp.add_argument("out", type=Path, help=t("h_published_folder"))
    rc = sub.add_parser("recuse", help=t("h_recuse"))
    rc.add_argument("out", type=Path, help=t("h_run_folder"))
    rc.add_argument("--visit", required=True, help=t("h_visit"))
    rc.add_argument("--inspector", required=True, help=t("h_inspector"))
    rc.add_argument("--by", choices=["enterprise", "inspector", "bureau"], required=True, help=t("h_by"))
    rc.add_argument("--reason", required=True, help=t("h_reason"))
    ab = sub.add_parser("absent", help=t("h_absent"))
    ab.add_argument("out", type=Path, help=t("h_run_folder"))
    ab.add_argument("--inspector", required=True, help=t("h_inspector"))
    ab.add_argument("--from", dest="start", required=True, help=t("h_date_from"))
    ab.add_argument("--to", dest="end", help=t("h_date_to"))
    ab.add_argument("--reason", required=True, help=t("h_reason"))
    rs = sub.add_parser("result", help=t("h_result"))
    rs.add_argument("out", type=Path, help=t("h_run_folder"))
    rs.add_argument("--visit", required=True, help=t("h_visit"))
    rs.add_argument("--category", required=True, help=t("h_category"))
    rs.add_argument("--note", default="", help=t("h_note"))
    pb = sub.add_parser("publish", help=t("h_publish"))
    pb.add_argument("out", type=Path, help=t("h_run_folder"))
    pb.add_argument("--visit", action="append", default=[], help=t("h_publish_visit"))
    pb.add_argument("--date", help=t("h_publish_date"))
    pb.add_argument("--format", choices=["csv", "gsxt"], default="csv", help=t("h_format"))
    od = sub.add_parser("overdue", help=t("h_overdue"))
    od.add_argument("out", type=Path, help=t("h_run_folder"))
    od.add_argument("--today", help=t("h_today"))
    au = sub.add_parser("audit", help=t("h_audit"))
    au_sub = au.add_subparsers(dest="audit_command", required=True, title=t("commands_title"), metavar="COMMAND")
    av = au_sub.add_parser("verify", help=t("h_audit_verify"))
    av.add_argument("out", type=Path, help=t("h_run_folder"))
    av.add_argument("--head", help=t("h_head"))
    verify = sub.add_parser("verify", help=t("h_verify"))
    verify.add_argument("out", type=Path, help=t("h_run_folder"))
    verify.add_argument("--registry", type=Path, help=t("h_verify_registry"))
    gen = sub.add_parser("generate", help=t("h_generate"))
    from data.generate import add_generate_arguments

    add_generate_arguments(gen)
    sv = sub.add_parser("serve", help=t("h_serve"))
    sv.add_argument("--host", default="127.0.0.1", help=t("h_host"))
    sv.add_argument("--port", type=int, default=8000, help=t("h_port"))
    sv.add_argument("--workers", type=int, default=1, help=t("h_workers"))
    us = sub.add_parser("user", help=t("h_user"))
    us_sub = us.add_subparsers(dest="user_command", required=True, title=t("commands_title"), metavar="COMMAND")
    ua = us_sub.add_parser("add", help=t("h_user_add"))
    ua.add_argument("name", help=t("h_user_name"))
    ua.add_argument("--role", choices=["planner", "leader", "auditor", "admin"], required=True, help=t("h_role"))
    ua.add_argument("--agency", required=True, help=t("h_agency"))
    ua.add_argument("--password-stdin", action="store_true", help=t("h_password_stdin"))
    ud = us_sub.add_parser("disable", help=t("h_user_disable"))
    ud.add_argument("name", help=t("h_user_name"))
    up = us_sub.add_parser("password", help=t("h_user_password"))
    up.add_argument("name", help=t("h_user_name"))
    up.add_argument("--password-stdin", action="store_true", help=t("h_password_stdin"))
    ag = sub.add_parser("agencies", help=t("h_agencies"))
    ag_sub = ag.add_subparsers(dest="agencies_command", required=True, title=t("commands_title"), metavar="COMMAND")
    al = ag_sub.add_parser("load", help=t("h_agencies_load"))
    al.add_argument("file", type=Path, help=t("h_agencies_file"))
    ad = ag_sub.add_parser("adopt", help=t("h_agencies_adopt"))
    ad.add_argument("agency_id", help=t("h_agency_id"))
    _lang_everywhere(parser)
    return parser


def _lang_everywhere(parser: argparse.ArgumentParser) -> None:
    """``--lang`` is accepted after any subcommand too (``randinspect verify RUN --lang en``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                if not any("--lang" in a.option_strings for a in sub._actions):
                    sub.add_argument("--lang", choices=LANGS, default=argparse.SUPPRESS, help=t("h_lang"))
                _lang_everywhere(sub)


def _language_from(argv: list[str]) -> str | None:
    """``--lang`` read before parsing, so that argparse's own messages are in that language."""
    for i, arg in enumerate(argv):
        if arg == "--lang" and i + 1 < len(argv) and argv[i + 1] in LANGS:
            return argv[i + 1]
        if arg.startswith("--lang=") and arg[7:] in LANGS:
            return arg[7:]
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    set_language(_language_from(argv))
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage mistake (2), already explained
        return exc.code if isinstance(exc.code, int) else 2
    try:
        if args.command == "demo":
            if args.load:
                return cmd_demo_load(args.accounts)
            if args.accounts:
                raise _arg("--accounts", t("accounts_needs_load"))
            return cmd_plan(
                sample_dir(), sample_dir() / "plan.yaml", DEMO_SEED, args.out, None,
                executor=args.executor, replace=args.replace,
            )
        if args.command == "plan":
            return cmd_plan(
                args.registry, args.plan_file, args.seed, args.out, args.calendar,
                args.commitment, args.beacon, args.beacon_keep_order, args.executor, args.mapping, args.replace,
            )
        if args.command == "commit":
            return cmd_commit(args.registry, args.plan_file, args.source, args.out, args.calendar, args.mapping)
        if args.command == "check-ticket":
            return cmd_check_ticket(args.out, args.task, args.credit_code, args.seed, args.stratum, args.threshold)
        if args.command == "check-publication":
            return cmd_check_publication(args.out)
        if args.command == "recuse":
            return cmd_recuse(args.out, args.visit, args.inspector, args.by, args.reason)
        if args.command == "absent":
            return cmd_absent(args.out, args.inspector, args.start, args.end, args.reason)
        if args.command == "result":
            return cmd_result(args.out, args.visit, args.category, args.note)
        if args.command == "publish":
            return cmd_publish(args.out, args.visit, args.date, args.format)
        if args.command == "overdue":
            return cmd_overdue(args.out, args.today)
        if args.command == "audit":
            return cmd_audit_verify(args.out, args.head)
        if args.command == "verify":
            return cmd_verify(args.out, args.registry)
        if args.command == "serve":
            return cmd_serve(args.host, args.port, args.workers)
        if args.command == "user":
            if args.user_command == "add":
                return cmd_user_add(args.name, args.role, args.agency, args.password_stdin)
            if args.user_command == "disable":
                return cmd_user_disable(args.name)
            return cmd_user_password(args.name, args.password_stdin)
        if args.command == "agencies":
            if args.agencies_command == "load":
                return cmd_agencies_load(args.file)
            return cmd_agencies_adopt(args.agency_id)
        if args.command == "generate":
            from data.generate import GenerateError, generate_from_args

            try:
                path = generate_from_args(args)
            except GenerateError as exc:
                print(t("bad_input_plain", error=exc), file=sys.stderr)
                return 2
            print(t("generated", path=path))
            return 0
    except InputError as exc:
        print(t("bad_input", n=len(exc.problems)) + "\n" + exc.render(), file=sys.stderr)
        return 2
    except InfeasibleError as exc:
        print(t("infeasible") + "\n" + "\n".join(exc.reasons), file=sys.stderr)
        return 3
    except OSError as exc:  # a file or folder that is missing, unreadable or in the way
        where = exc.filename if exc.filename is not None else ""
        print(t("bad_input_file", file=where, error=exc.strerror or exc), file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
