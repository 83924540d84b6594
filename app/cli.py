"""``flask ce …`` commands: roles, demo data, scale data, doctor."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

ce = AppGroup("ce", help="Continuing-education platform commands.")


@ce.command("init")
def init_command():
    """Create or update the base role of every capacity (idempotent).

    The system administrator's base-role matrix edits (``BaseRoleChoice``) are kept: a module level
    it removed stays removed; module levels added by an upgrade get their default (granted). Every
    custom organisation role is re-derived afterwards."""
    from .services.roles import sync_base_roles

    sm = current_app.appbuilder.sm
    for role in (current_app.config["AUTH_ROLE_ADMIN"], current_app.config["AUTH_ROLE_PUBLIC"]):
        sm.find_role(role) or sm.add_role(role)
    current_app.appbuilder.add_permissions(update_perms=True)
    counts = sync_base_roles(sm)
    for name, n in counts.items():
        click.echo(f"role {name}: {n} permissions")


@ce.command("demo")
def demo_command():
    """Load the demo data when the database has no organisation yet (idempotent)."""
    from .services.demo import load_demo

    created = load_demo()
    click.echo("demo data loaded" if created else "demo data already present")
    from .services.demo import DEMO_LOGINS

    for capacity, id_number, password, org in DEMO_LOGINS:
        click.echo(f"  {capacity:10s} {id_number}  {password}  {org}")


@ce.command("scale")
@click.option("--persons", type=int, default=100000, show_default=True)
@click.option("--declarations-per-person", type=int, default=1, show_default=True)
def scale_command(persons, declarations_per_person):
    """Generate scale data fast (set-based inserts; COPY on PostgreSQL)."""
    from .services.scale import generate

    stats = generate(persons=persons, declarations_per_person=declarations_per_person)
    for key, value in stats.items():
        click.echo(f"{key}: {value}")


@ce.command("doctor")
def doctor_command():
    """Check the certificate PDF set-up: font file, its coverage (䶮 𬌗, GB 2312 level 1), libraries."""
    from .services.fonts import TEST_CHARACTERS, check_font, font_path, versions

    for name, version in versions().items():
        click.echo(f"{name}: {version}")
    click.echo(f"certificate font: {font_path()}")
    problems = check_font()
    for problem in problems:
        click.echo(f"PROBLEM: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"certificate font OK: TrueType, covers {TEST_CHARACTERS} and GB 2312 level 1")


def init_app(app) -> None:
    app.cli.add_command(ce)
