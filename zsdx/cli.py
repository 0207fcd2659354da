"""`flask zsdx …`: init (roles and permissions), seed-demo, load-registry, create-user, deliver-pending, dossier."""

import click
from flask.cli import with_appcontext

from .extensions import appbuilder, db


@click.group("zsdx", help="zsdx administration commands.")
def zsdx_cli():
    pass


@zsdx_cli.command("init")
@with_appcontext
def init_command():
    """Create FAB's builtin roles, every permission and the zsdx roles (run after `flask db upgrade`)."""
    from .seed import init_security, seed_reference

    init_security()
    seed_reference()
    click.echo("roles, permissions and reference data are in place")


@zsdx_cli.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load the demo registry and one demo account per role."""
    from .seed import DEMO_PASSWORD, seed_demo

    created = seed_demo()
    click.echo(f"demo accounts created: {', '.join(created) or 'none (already there)'}; password {DEMO_PASSWORD}")


@zsdx_cli.command("load-registry")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def load_registry_command(path):
    """Load a business-registry CSV (name, credit_code, town_code, legal_representative, address)."""
    from .seed import load_registry

    loaded, rejected = load_registry(path)
    click.echo(f"loaded {loaded} rows")
    for line, reason in rejected:
        click.echo(f"line {line}: {reason}", err=True)


@zsdx_cli.command("create-user")
@click.option("--phone", required=True)
@click.option("--name", required=True)
@click.option("--role", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--town-code", default=None, help="town of a 镇街 reviewer")
@click.option("--organisation", default=None, help="name of the user's organisation")
@with_appcontext
def create_user_command(phone, name, role, password, town_code, organisation):
    """Create an account, enforcing the password rule (FAB's own create-user does not, FAB-NOTES P7)."""
    from .models import Organisation, Town, ZsdxUser
    from .passwords import password_problem
    from .phones import is_phone, normalise_phone
    from .security import placeholder_email

    phone = normalise_phone(phone)  # full-width digits, spaces and dashes: the same phone as everywhere else
    if not is_phone(phone):
        raise click.ClickException(f"{phone!r} is not an 11-digit mobile phone number")
    problem = password_problem(password)
    if problem:
        raise click.ClickException(problem)
    sm = appbuilder.sm
    role_obj = sm.find_role(role)
    if role_obj is None:
        raise click.ClickException(f"no role {role}")
    if db.session.query(ZsdxUser).filter((ZsdxUser.phone == phone) | (ZsdxUser.username == phone)).first():
        raise click.ClickException(f"{phone} is already registered")
    user = sm.add_user(phone, name, "", placeholder_email(phone), role=role_obj, password=password, commit=False)
    user.phone = phone
    if town_code:
        user.town = db.session.query(Town).filter_by(code=town_code).one()
    if organisation:
        user.organisation = db.session.query(Organisation).filter_by(name=organisation).one()
    db.session.commit()
    click.echo(f"user {phone} created")


@zsdx_cli.command("deliver-pending")
@with_appcontext
def deliver_pending_command():
    """Queue the SMS of notifications that were never delivered (e.g. Redis was down)."""
    from .jobs import retry_undelivered

    click.echo(f"queued {retry_undelivered()} notifications")


@zsdx_cli.command("gen-load")
@click.option("--enterprises", default=10_000, show_default=True, type=int)
@click.option("--filings", default=100_000, show_default=True, type=int)
@click.option("--notifications", default=955_700, show_default=True, type=int)
@click.option("--products", default=2_000, show_default=True, type=int, help="上架产品, of products // 10 providers")
@click.option(
    "--signings/--no-signings",
    default=True,
    show_default=True,
    help="项目签约 of the 已备案 projects in every state (contracts, assistance, 预奖补申请); off: all untouched",
)
@click.option(
    "--implementation/--no-implementation",
    default=True,
    show_default=True,
    help="改造中, 事后评估 and 改造完成 of the 已签约 projects in every state (invoices, ratings, 项目入库); "
    "off: 改造中 untouched",
)
@click.option(
    "--warehousing/--no-warehousing",
    default=True,
    show_default=True,
    help="项目入库 of the submitted 改造完成 in every state (experts assigned, returns, 已入库 with its subsidy); "
    "off: all 待提交",
)
@click.option("--seed", default=1, show_default=True, type=int, help="same seed and sizes, same rows")
@click.option("--town-codes", default=None, help="comma-separated town codes (default: every reference town)")
@with_appcontext
def gen_load_command(
    enterprises, filings, notifications, products, signings, implementation, warehousing, seed, town_codes
):
    """Bulk-load realistic enterprises, filings in every status, audit rows and notifications (benchmarks)."""
    from .loadgen import GenLoadError, generate

    try:
        counts = generate(
            enterprises=enterprises,
            filings=filings,
            notifications=notifications,
            products=products,
            signings=signings,
            implementation=implementation,
            warehousing=warehousing,
            seed=seed,
            town_codes=[c.strip() for c in town_codes.split(",")] if town_codes else None,
            echo=click.echo,
        )
    except GenLoadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(", ".join(f"{table} {n:,}" for table, n in counts.items()))


@zsdx_cli.command("check-chains")
@with_appcontext
def check_chains_command():
    """Check REVIEW_CHAINS (scopes, roles, labels, guards) and list live records at steps that no longer exist."""
    from flask import current_app

    from .workflow import chain_problems, stranded_records

    problems = chain_problems(current_app._get_current_object())
    for problem in problems:
        click.echo(f"config: {problem}")
    stranded = [] if problems else stranded_records()
    for stage_type, pk, step in stranded:
        click.echo(f"record: {stage_type} #{pk} waits at step {step!r}, which its chain no longer has")
    if problems or stranded:
        raise SystemExit(1)
    click.echo("review chains OK")


@zsdx_cli.command("dossier")
@click.argument("project_id", required=False, type=int)
@click.option("--all", "all_", is_flag=True, help="every project with a submitted filing (a .zip)")
@click.option("--town", default=None, help="the projects of one town, by code or name (a .zip)")
@click.option("-o", "--output", default=None, help="the file to write (JSON; .zip with --all/--town); default: stdout")
@with_appcontext
def dossier_command(project_id, all_, town, output):
    """一企一档: the JSON dossier of PROJECT_ID, or the .zip of --all / --town projects (SPEC §3.11)."""
    from .dossier import build, dumps, load, submitted_filings, write_zip
    from .models import Filing, Town

    if (project_id is not None) == bool(all_ or town):
        raise click.UsageError("give either PROJECT_ID or --all / --town")
    if project_id is not None:
        project = load(project_id)
        if project is None:
            raise click.ClickException(f"no project {project_id}")
        text = dumps(build(project))
        if output:
            with open(output, "w", encoding="utf-8") as fh:
                fh.write(text)
            click.echo(f"wrote {output}", err=True)
        else:
            click.echo(text)
        return
    if not output:
        raise click.UsageError("-o out.zip is required with --all / --town")
    query = submitted_filings()
    if town:
        row = db.session.query(Town).filter((Town.code == town) | (Town.name == town)).one_or_none()
        if row is None:
            raise click.ClickException(f"no town {town!r}")
        query = query.filter(Filing.town_id == row.id)
    ids = [pid for (pid,) in query.with_entities(Filing.project_id).order_by(Filing.id)]

    def progress(done, total):
        if done == total or done % 100 == 0:
            click.echo(f"{done}/{total}", err=True)

    entries = write_zip(ids, output, progress)
    click.echo(f"wrote {output}: {len(entries)} dossiers", err=True)
