"""The ``randinspect`` command line (contract: demo, plan, verify; plus generate).

Exit status: 0 done; 1 verify found a difference; 2 bad input (file, row and
column named); 3 infeasible (task, rule and numbers named).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from scheduler import cells
from scheduler.audit import verify_log
from scheduler.errors import InfeasibleError, InputError, Problem
from scheduler.outputs import MANIFEST, compare_outputs, read_manifest, sha256_file, write_outputs
from scheduler.pipeline import run_plan

DEMO_SEED = "randinspect-demo-2026Q1"
MAPPING_HELP = (
    "the registry's mapping file (export headers and values -> the contract's); default: mapping.yaml in "
    "the registry folder. Hashed into the manifest and the commitment"
)
EXECUTOR_HELP = (
    "where the independent parts run: local (default), processes[:N] (worker processes), "
    "dask://HOST:PORT (a Dask cluster), or dask (address from $RANDINSPECT_DASK_SCHEDULER); "
    "default $RANDINSPECT_EXECUTOR. The outputs are the same bytes whatever is chosen"
)


def sample_dir() -> Path:
    """The bundled sample county."""
    import data

    return Path(data.__file__).resolve().parent / "sample_county"


def _summary(result, out: Path, seconds: float) -> str:
    s = result.staffing
    loads = [n for i, n in s.load.items() if s.capacity.get(i, 0) > 0 and n > 0]
    lines = [
        f"quarter {result.plan.quarter}, seed {result.seed!r}",
        f"{len(result.selection)} enterprises drawn in {len(result.strata)} strata of {len(result.plan.tasks)} tasks",
        f"{len(result.visits)} visits, teams drawn by lottery: max pair probability "
        f"{s.max_pair_probability:.3f} (cap {s.pair_probability_cap}), inspector loads {min(loads, default=0)}–{max(loads, default=0)}",
        "stages: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items()) + f"; total {seconds:.2f}s",
    ]
    lines += [f"warning: {w}" for w in result.warnings]
    lines += _exclusion_lines(result)
    lines += [
        f"outputs in {out}:",
        f"  {out / 'selection.csv'}",
        f"  {out / 'visits.csv'}",
        f"  {out / 'publication.csv'}",
        f"  {out / 'notices'}/ ({len(result.visits)} notices)",
        f"  {out / 'report.html'}",
        f"  {out / 'manifest.json'}",
    ]
    return "\n".join(lines)


def _exclusion_lines(result) -> list[str]:
    """Per task, how the jurisdiction shrank to the frame drawn from (no silent emptiness)."""
    from scheduler.draw import frame_text
    from scheduler.messages import t

    return [t("summary_exclusions")] + [f"  {f.task_id}: {frame_text(f)}" for f in result.frames]


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
) -> int:
    """Draw, staff, date and write; the seed is typed (``test``) or derived from a commitment
    and public numbers (``public``). The audit record gets an import and a draw record.
    ``executor`` (``local``, ``processes[:N]``, ``dask://HOST:PORT``; default
    ``$RANDINSPECT_EXECUTOR`` or local) runs the independent parts; the outputs do not depend on it."""
    from scheduler.executor import ENV_EXECUTOR, make_executor
    from scheduler.importer import registry_files
    from scheduler.runfolder import audit_log
    from scheduler.seed import check_commitment, derive_seed

    t = time.perf_counter()
    extra: dict = {"seed_kind": "test"}
    if commitment is not None:
        if not beacon:
            raise InputError(Problem("command line", None, "--beacon", "a committed plan needs the public numbers"))
        doc = json.loads(Path(commitment).read_text(encoding="utf-8"))
        files = registry_files(registry, mapping)  # the run below reads and checks them
        cal = calendar or (Path(registry) / "calendar.csv" if (Path(registry) / "calendar.csv").exists() else None)
        if cal:
            files["calendar"] = Path(cal)
        check_commitment(doc, files, Path(plan_file), Path(commitment).name)
        try:
            seed, key = derive_seed(doc["commitment"], beacon, keep_order)
        except ValueError as exc:
            raise InputError(Problem("command line", None, "--beacon", str(exc))) from None
        extra = {"seed_kind": "public", "commitment": doc, "beacon": beacon, "key_string": key}
    elif seed is None:
        raise InputError(Problem("command line", None, "--seed", "give --seed (a test draw) or --commitment and --beacon"))
    spec = executor or os.environ.get(ENV_EXECUTOR) or "local"
    try:
        ex = make_executor(spec)
    except (ValueError, RuntimeError, OSError, TimeoutError) as exc:
        raise InputError(Problem("command line", None, "--executor", f"{spec}: {exc}")) from None
    try:
        result = run_plan(
            registry, plan_file, seed, calendar_file=calendar, seed_kind=extra["seed_kind"], executor=ex, mapping=mapping
        )
    finally:
        ex.close()
    t_out = time.perf_counter()
    write_outputs(result, out, registry, plan_file, extra)
    result.timings["outputs"] = time.perf_counter() - t_out
    manifest = read_manifest(out)
    log = audit_log(out)
    log.append("import", {"inputs": manifest["inputs"], "plan": manifest["plan"]})
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
    print(_summary(result, out.resolve(), time.perf_counter() - t))
    if extra["seed_kind"] == "test":
        print("note: a seed typed on the command line makes a TEST draw; a public draw uses `randinspect commit` and --beacon")
    print(f"audit record head: {log.head()}")
    return 0


def _print_head(out: Path) -> None:
    from scheduler.runfolder import audit_log

    print(f"audit record head: {audit_log(out).head()}")


def cmd_commit(
    registry: Path, plan_file: Path, source: str, out: Path, calendar: Path | None, mapping: Path | None = None
) -> int:
    """Commit to the inputs before the public numbers exist (RFC 3797 style)."""
    from importlib import metadata

    from scheduler.importer import load_registry
    from scheduler.plan import load_plan
    from scheduler.runfolder import audit_log
    from scheduler.seed import commitment_document, commitment_hash

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
    audit_log(out).append("commit", {"commitment": doc["commitment"], "source": source, "quarter": plan.quarter})
    print(f"commitment {doc['commitment']}")
    print(f"publish it now; after the source's numbers ({source}) are public, run:")
    again = f" --mapping {mapping}" if mapping else ""
    print(f"  randinspect plan {registry} {plan_file}{again} --commitment {out / 'commitment.json'} --beacon 'NUMBERS' --out {out}")
    _print_head(out)
    return 0


def cmd_check_ticket(out: Path | None, task: str, code: str, seed: str | None, stratum: str | None, threshold: str | None) -> int:
    """Any enterprise can check its own draw: its ticket against its stratum's threshold."""

    from scheduler.tickets import ticket

    rows = []
    if out is not None:
        if seed is None:
            seed = read_manifest(out)["seed"]
        rows = [r for r in cells.dict_reader(open(Path(out) / "strata.csv", encoding="utf-8-sig")) if r["task_id"] == task]
    if seed is None:
        raise InputError(Problem("command line", None, "--seed", "give the seed, or the published output folder"))
    t = ticket(seed, task, code)
    print(f"ticket = SHA-256({seed}|{task}|{code}) = {t}")
    if threshold:
        rows = [{"stratum": stratum or "?", "threshold": threshold, "sample_size": "", "population_size": ""}]
    if stratum:
        rows = [r for r in rows if r["stratum"] == stratum]
    if not rows:
        print("no stratum threshold to compare with (give --stratum with the output folder, or --threshold)")
        return 0
    verdicts = []
    for r in rows:
        if r["stratum"] == "key_area":
            verdict = "drawn (key-area enterprises are all drawn)"
        elif not r["threshold"]:
            verdict = "not drawn (nothing drawn in this stratum)"
        else:
            verdict = "drawn" if t <= r["threshold"] else "not drawn"
        verdicts.append(verdict)
        print(f"stratum {r['stratum']}: threshold {r['threshold'] or '-'} -> if you are in this stratum: {verdict}")
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
            problems.append("the seed is not the one derived from the published commitment and numbers")
    else:
        print("note: a TEST seed — nothing public fixed it in advance")
    strata = list(cells.dict_reader(open(Path(out) / "strata.csv", encoding="utf-8-sig")))
    limits: dict[str, list[str]] = defaultdict(list)
    expected: Counter = Counter()
    keyed = Counter()
    for r in strata:
        expected[r["task_id"]] += int(r["sample_size"])
        if r["stratum"] == "key_area":
            keyed[r["task_id"]] += int(r["sample_size"])
        elif r["threshold"]:
            limits[r["task_id"]].append(r["threshold"])
    rows = list(cells.dict_reader(open(Path(out) / "publication.csv", encoding="utf-8-sig")))
    randomly = Counter()
    key = Counter()
    for r in rows:
        task = r["task_id"]
        if r.get("drawn_as") == "重点领域":
            key[task] += 1
            continue
        randomly[task] += 1
        t = ticket(seed, task, r["credit_code"])
        if not limits[task] or t > max(limits[task]):
            problems.append(f"{task}/{r['credit_code']}: published as drawn at random, but its ticket {t[:12]}… is above every threshold of the task")
    for task in sorted(expected):
        if key[task] != keyed[task]:
            problems.append(f"{task}: {key[task]} key-area rows published, the key-area stratum has {keyed[task]}")
        if randomly[task] != expected[task] - keyed[task]:
            problems.append(f"{task}: {randomly[task]} randomly drawn rows published, the strata drew {expected[task] - keyed[task]}")
    if problems:
        print("PUBLICATION DOES NOT CHECK OUT", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    print(
        f"publication checks out: seed {'derived from the commitment' if manifest.get('seed_kind') == 'public' else 'as given'}, "
        f"{len(rows)} published rows in {len(expected)} tasks match the strata, every random draw's ticket recomputed"
    )
    return 0


def cmd_recuse(out: Path, visit: str, inspector: str, by: str, reason: str) -> int:
    from scheduler.recusal import RecusalRequest
    from scheduler.runfolder import recuse

    (o,) = recuse(out, RecusalRequest(visit, inspector, by, reason), actor=by)
    moved = "" if o.date_after == o.date_before else f", moved from {o.date_before} to {o.date_after}"
    print(f"recusal #{o.seq}: {o.removed} leaves visit {o.visit_id}; {o.replacement} drawn among {o.candidates} candidates{moved}")
    _print_head(out)
    return 0


def cmd_absent(out: Path, inspector: str, start: str, end: str | None, reason: str) -> int:
    """An inspector who falls ill: replaced on every visit from ``start`` (to ``end``)."""
    import datetime as dt

    from scheduler.recusal import RecusalRequest
    from scheduler.runfolder import recuse

    lo = dt.date.fromisoformat(start)
    hi = dt.date.fromisoformat(end) if end else dt.date.max
    todo = [
        r["visit_id"]
        for r in cells.dict_reader(open(Path(out) / "visits.csv", encoding="utf-8"))
        if inspector in r["inspector_ids"].split(";") and lo <= dt.date.fromisoformat(r["date"]) <= hi
    ]
    outcomes = recuse(out, [RecusalRequest(v, inspector, "bureau", reason, start, end or "") for v in todo], actor="bureau") if todo else []
    for o in outcomes:
        moved = "" if o.date_after == o.date_before else f", moved from {o.date_before} to {o.date_after}"
        print(f"recusal #{o.seq}: {inspector} leaves {o.visit_id}; {o.replacement} drawn among {o.candidates} candidates{moved}")
    if not todo:
        print(f"{inspector} has no visit in that period")
    _print_head(out)
    return 0


def cmd_result(out: Path, visit: str, category: str, note: str) -> int:
    from scheduler.runfolder import enter_result

    e = enter_result(out, visit, category, note)
    print(f"{e.visit_id}: {e.category} recorded")
    _print_head(out)
    return 0


def cmd_publish(out: Path, visits: list[str], on: str | None, fmt: str = "csv") -> int:
    import datetime as dt

    from scheduler.runfolder import publish_results, write_gsxt

    day = dt.date.fromisoformat(on) if on else dt.date.today()
    done = publish_results(out, day, visits or None)
    print(f"{len(done)} results published on {day} in {Path(out) / 'results_publication.csv'}")
    if fmt == "gsxt":
        from scheduler.messages import t

        csv_path, xlsx_path, rows = write_gsxt(out)
        print(t("gsxt_written", rows=rows, csv=csv_path, xlsx=xlsx_path))
    _print_head(out)
    return 0


def cmd_overdue(out: Path, today: str | None) -> int:
    import datetime as dt

    from scheduler.runfolder import overdue_results

    day = dt.date.fromisoformat(today) if today else dt.date.today()
    rows = overdue_results(out, day)
    for visit_id, date, due, state in rows:
        print(f"{visit_id}\tvisited {date}\tdue {due}\t{state}")
    print(f"{len(rows)} results overdue on {day} (publication is due within 20 working days of the visit)")
    return 0


def cmd_audit_verify(out: Path, head: str | None) -> int:
    report = verify_log(Path(out) / "audit.jsonl", head)
    if report.ok:
        print(f"audit record intact: {report.count} records, head {report.head}")
        return 0
    print(f"AUDIT RECORD BROKEN: {report.message}", file=sys.stderr)
    return 1


def cmd_verify(out: Path) -> int:
    manifest = read_manifest(out)
    problems = []
    for table, info in sorted(manifest["inputs"].items()):
        p = Path(info["path"])
        if not p.exists():
            problems.append(f"input {table}: {p} is missing")
        elif sha256_file(p) != info["sha256"]:
            problems.append(f"input {table}: {p} changed since the run")
    plan_path = Path(manifest["plan"]["path"])
    if not plan_path.exists() or sha256_file(plan_path) != manifest["plan"]["sha256"]:
        problems.append(f"plan {plan_path} is missing or changed since the run")
    problems += [f"in {out}: {d}" for d in compare_outputs(manifest["outputs"], Path(out))]
    if manifest.get("seed_kind") == "public":
        from scheduler.seed import commitment_hash, derive_seed

        doc = manifest["commitment"]
        if commitment_hash(doc) != doc["commitment"]:
            problems.append("commitment: the document does not match its hash")
        elif derive_seed(doc["commitment"], manifest["beacon"])[0] != manifest["seed"]:
            problems.append("seed: not the one derived from the commitment and the public numbers")
    report = verify_log(Path(out) / "audit.jsonl")
    if not report.ok:
        problems.append(f"audit record: {report.message}")
    if not any(p.startswith("input") or p.startswith("plan") for p in problems):
        from scheduler.runfolder import replay

        result, _, _ = replay(Path(out))
        with tempfile.TemporaryDirectory() as tmp:
            rerun = write_outputs(result, Path(tmp) / "rerun", manifest["registry_dir"], plan_path)
            problems += [f"re-run: {d}" for d in compare_outputs(manifest["outputs"], rerun)]
    if problems:
        print("NOT VERIFIED", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        return 1
    kind = manifest.get("seed_kind", "test")
    recusals = len(manifest.get("recusals", []))
    print(
        f"verified: re-running {kind} seed {manifest['seed']!r}"
        + (f" and {recusals} recorded recusals" if recusals else "")
        + f" reproduces all {len(manifest['outputs'])} output files byte for byte; audit record intact ({report.count} records)"
    )
    return 0


def cmd_serve(host: str, port: int, workers: int) -> int:
    """Run the service (uvicorn on ``api.main:create_app``); the database is brought to the
    current schema first (the default is ``./randinspect.db``, SQLite)."""
    import uvicorn

    from api.migrate import upgrade
    from api.settings import get_settings

    settings = get_settings()
    upgrade(settings.database_url)
    shown = "localhost" if host in ("0.0.0.0", "::") else host
    base = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}"
    print(f"randinspect service on {base}/api (database {_redacted(settings.database_url)})")
    print(f"API documentation: {base}/docs")
    sys.stdout.flush()
    uvicorn.run("api.main:create_app", factory=True, host=host, port=port, workers=workers)
    return 0


def cmd_demo_load(accounts: bool = False) -> int:
    """``demo --load``: the sample county, a drawn plan and its publication, stored by the
    service's own API (see ``api.demo_load``) in the configured database."""
    from api.demo_load import DemoLoadError, load_demo, summary

    try:
        load = load_demo(say=lambda m: print(m, flush=True), accounts=accounts)
    except DemoLoadError as exc:
        print(f"demo --load failed: {exc}", file=sys.stderr)
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
    first = getpass.getpass("password (at least 12 characters): ")
    second = getpass.getpass("the same password again: ")
    if first != second:
        raise InputError(Problem("command line", None, "password", "the two passwords differ"))
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
        raise InputError(Problem("command line", None, "password", problem))
    if "\x00" in password:
        raise InputError(Problem("command line", None, "password", "a password cannot contain NUL"))


def cmd_user_add(name: str, role: str, agency: str, password_stdin: bool) -> int:
    """Create an account of ``agency`` (in the agency tree; the first admin is made here)."""
    from sqlalchemy import select

    from api.audit_store import append
    from api.models import AgencyRecord, User
    from api.security import hash_password

    if not name or len(name) > 64 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InputError(Problem("command line", None, "NAME", "a user name has 1 to 64 printable characters"))
    password = _read_password(password_stdin)
    _check_password(password, name)
    sessions, engine, url = _service_session()
    try:
        with sessions() as session:
            if session.get(AgencyRecord, agency) is None:
                raise InputError(
                    Problem("command line", None, "--agency", f"agency {agency!r} is not in the agency tree "
                            "(load it first: randinspect agencies load agencies.csv)")
                )
            if session.scalar(select(User.id).where(User.username == name)) is not None:
                raise InputError(Problem("command line", None, "NAME", f"user {name!r} exists"))
            session.add(User(username=name, role=role, agency_id=agency, password_hash=hash_password(password), active=True))
            append(session, "note", {"event": "account created", "username": name, "role": role, "agency_id": agency},
                   "command line", agency)
            session.commit()
    finally:
        engine.dispose()
    print(f"{role} {name!r} of {agency} created in {_redacted(url)}; sign in at POST /api/login")
    return 0


def _account(session, name: str):
    from sqlalchemy import select

    from api.models import User

    user = session.scalar(select(User).where(User.username == name))
    if user is None:
        raise InputError(Problem("command line", None, "NAME", f"no user {name!r}"))
    return user


def cmd_user_disable(name: str) -> int:
    """Disable an account; its tokens are revoked (audited)."""
    from sqlalchemy import delete

    from api.audit_store import append
    from api.models import ApiToken

    sessions, engine, url = _service_session()
    try:
        with sessions() as session:
            user = _account(session, name)
            user.active = False
            session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
            append(session, "note", {"event": "account disabled", "username": name}, "command line", user.agency_id)
            session.commit()
    finally:
        engine.dispose()
    print(f"{name!r} disabled in {_redacted(url)}; its tokens are revoked")
    return 0


def cmd_user_password(name: str, password_stdin: bool) -> int:
    """Set an account's password; its tokens are revoked (audited)."""
    from sqlalchemy import delete

    from api.audit_store import append
    from api.models import ApiToken
    from api.security import hash_password

    password = _read_password(password_stdin)
    _check_password(password, name)
    sessions, engine, url = _service_session()
    try:
        with sessions() as session:
            user = _account(session, name)
            user.password_hash = hash_password(password)
            session.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
            append(session, "note", {"event": "password set", "username": name}, "command line", user.agency_id)
            session.commit()
    finally:
        engine.dispose()
    print(f"password of {name!r} set in {_redacted(url)}; its tokens are revoked")
    return 0


def cmd_agencies_load(path: Path) -> int:
    """Load (add to or update) the service's agency tree from an agencies table."""
    from sqlalchemy import func, select

    from api.agencies import load_tree
    from api.audit_store import append
    from api.models import AgencyRecord

    if not Path(path).is_file():
        raise InputError(Problem(Path(path).name, None, None, "no such file"))
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
    print(f"agency tree in {_redacted(url)}: {added} added, {updated} updated, {total} agencies")
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
                raise InputError(Problem("command line", None, "AGENCY_ID", f"agency {agency!r} is not in the agency tree"))
            counts = {
                model.__tablename__: session.execute(
                    update(model).where(model.agency_id.is_(None)).values(agency_id=agency)
                ).rowcount
                for model in (User, RegistryRecord, PlanRecord, AuditRecordRow)
            }
            session.commit()
    finally:
        engine.dispose()
    print(f"given to {agency} in {_redacted(url)}: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="randinspect", description="双随机、一公开 inspection planning")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the whole job on the bundled sample county")
    demo.add_argument("--out", type=Path, default=Path("randinspect-demo"))
    demo.add_argument("--executor", help=EXECUTOR_HELP)
    demo.add_argument(
        "--load",
        action="store_true",
        help="instead, load the sample county, its plan, a finished draw and its publication into the service's "
        "database (RANDINSPECT_DATABASE_URL, default ./randinspect.db); a second run loads nothing",
    )
    demo.add_argument(
        "--accounts",
        action="store_true",
        help="with --load: also create a province, a city and a county account of each role "
        "(random passwords, printed once)",
    )
    plan = sub.add_parser("plan", help="draw, staff and schedule a quarterly plan")
    plan.add_argument("registry", type=Path)
    plan.add_argument("plan_file", type=Path)
    plan.add_argument("--seed", help="a test seed (the draw is then marked test)")
    plan.add_argument("--commitment", type=Path, help="commitment.json made by `randinspect commit`")
    plan.add_argument("--beacon", help="the public numbers, e.g. '3 11 17 22 28 31; 9' (sources split by ;)")
    plan.add_argument("--beacon-keep-order", action="store_true", help="the numbers' order matters (not a set)")
    plan.add_argument("--out", type=Path, required=True)
    plan.add_argument("--calendar", type=Path, help="working-day calendar file for years the package lacks")
    plan.add_argument("--executor", help=EXECUTOR_HELP)
    plan.add_argument("--mapping", type=Path, help=MAPPING_HELP)
    commit = sub.add_parser("commit", help="commit to the inputs before the public numbers exist")
    commit.add_argument("registry", type=Path)
    commit.add_argument("plan_file", type=Path)
    commit.add_argument("--source", required=True, help="the public randomness named in advance, e.g. a lottery draw")
    commit.add_argument("--out", type=Path, required=True)
    commit.add_argument("--calendar", type=Path)
    commit.add_argument("--mapping", type=Path, help=MAPPING_HELP)
    ct = sub.add_parser("check-ticket", help="check one enterprise's draw from public data")
    ct.add_argument("out", type=Path, nargs="?", help="published output folder (strata.csv, manifest.json)")
    ct.add_argument("--task", required=True)
    ct.add_argument("--credit-code", required=True)
    ct.add_argument("--seed")
    ct.add_argument("--stratum")
    ct.add_argument("--threshold")
    cp = sub.add_parser("check-publication", help="check the published files alone: seed, tickets, counts")
    cp.add_argument("out", type=Path)
    rc = sub.add_parser("recuse", help="remove an inspector from a visit (回避) and draw the replacement")
    rc.add_argument("out", type=Path)
    rc.add_argument("--visit", required=True)
    rc.add_argument("--inspector", required=True)
    rc.add_argument("--by", choices=["enterprise", "inspector", "bureau"], required=True)
    rc.add_argument("--reason", required=True)
    ab = sub.add_parser("absent", help="an inspector falls ill: replace them on every visit in a period")
    ab.add_argument("out", type=Path)
    ab.add_argument("--inspector", required=True)
    ab.add_argument("--from", dest="start", required=True)
    ab.add_argument("--to", dest="end")
    ab.add_argument("--reason", required=True)
    rs = sub.add_parser("result", help="record a visit's result")
    rs.add_argument("out", type=Path)
    rs.add_argument("--visit", required=True)
    rs.add_argument("--category", required=True)
    rs.add_argument("--note", default="")
    pb = sub.add_parser("publish", help="publish entered results")
    pb.add_argument("out", type=Path)
    pb.add_argument("--visit", action="append", default=[])
    pb.add_argument("--date")
    pb.add_argument(
        "--format",
        choices=["csv", "gsxt"],
        default="csv",
        help="gsxt: also write the results in the layout of the national enterprise credit publicity "
        "system (results_gsxt.csv and .xlsx, one row per visit and item)",
    )
    od = sub.add_parser("overdue", help="results not published within 20 working days")
    od.add_argument("out", type=Path)
    od.add_argument("--today")
    au = sub.add_parser("audit", help="the tamper-evident record")
    au_sub = au.add_subparsers(dest="audit_command", required=True)
    av = au_sub.add_parser("verify", help="check the hash chain; name the first bad record")
    av.add_argument("out", type=Path)
    av.add_argument("--head", help="the published head hash (detects a dropped last record)")
    verify = sub.add_parser("verify", help="re-run from the manifest; exit 0 only if identical")
    verify.add_argument("out", type=Path)
    gen = sub.add_parser("generate", help="write a synthetic registry and plan")
    from data.generate import add_generate_arguments

    add_generate_arguments(gen)
    sv = sub.add_parser("serve", help="run the web service (API and its documentation at /docs)")
    sv.add_argument("--host", default="127.0.0.1")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument("--workers", type=int, default=1)
    us = sub.add_parser("user", help="service accounts (planner, leader, auditor, admin)")
    us_sub = us.add_subparsers(dest="user_command", required=True)
    ua = us_sub.add_parser("add", help="create a user (the password is asked twice, or read from stdin)")
    ua.add_argument("name")
    ua.add_argument("--role", choices=["planner", "leader", "auditor", "admin"], required=True)
    ua.add_argument("--agency", required=True, help="the account's agency (an agency_id of the agency tree)")
    ua.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    ud = us_sub.add_parser("disable", help="disable a user (its tokens are revoked)")
    ud.add_argument("name")
    up = us_sub.add_parser("password", help="set a user's password (its tokens are revoked)")
    up.add_argument("name")
    up.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    ag = sub.add_parser("agencies", help="the service's agency tree (机构库)")
    ag_sub = ag.add_subparsers(dest="agencies_command", required=True)
    al = ag_sub.add_parser("load", help="add or update agencies from an agencies table (registry format)")
    al.add_argument("file", type=Path)
    ad = ag_sub.add_parser("adopt", help="give data made before the agency tree (no agency) to an agency")
    ad.add_argument("agency_id")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "demo":
            if args.load:
                return cmd_demo_load(args.accounts)
            if args.accounts:
                print("bad input: --accounts goes with --load", file=sys.stderr)
                return 2
            return cmd_plan(
                sample_dir(), sample_dir() / "plan.yaml", DEMO_SEED, args.out, None, executor=args.executor
            )
        if args.command == "plan":
            return cmd_plan(
                args.registry, args.plan_file, args.seed, args.out, args.calendar,
                args.commitment, args.beacon, args.beacon_keep_order, args.executor, args.mapping,
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
            return cmd_verify(args.out)
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
                print(f"bad input: {exc}", file=sys.stderr)
                return 2
            print(f"registry and plan written to {path}")
            return 0
    except InputError as exc:
        print(f"bad input ({len(exc.problems)} problems):\n{exc.render()}", file=sys.stderr)
        return 2
    except InfeasibleError as exc:
        print("infeasible plan:\n" + "\n".join(exc.reasons), file=sys.stderr)
        return 3
    except FileNotFoundError as exc:
        print(f"bad input: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
