"""The README is the product's front door: it must stay true as settings grow."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = sorted((ROOT / "config" / "settings").glob("*.py"))
ENV_READ = re.compile(r"""(?:env(?:\.[a-z]+)?\(|_required\()\s*["']([A-Z][A-Z0-9_]+)["']""")


def test_every_environment_variable_the_settings_read_is_documented():
    readme = (ROOT / "README.md").read_text()
    names = {name for path in SETTINGS for name in ENV_READ.findall(path.read_text())}
    assert len(names) > 30, names  # the pattern still finds what settings read
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert not missing, f"document these environment variables in README.md: {missing}"


def test_readme_names_the_two_front_door_commands_and_they_exist():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    for command in ("make demo", "make test"):
        assert command in readme
    for target in ("demo:", "test:", "bench:", "backup:", "restore:"):
        assert re.search(rf"^{target}", makefile, re.M), target


def test_every_command_and_file_the_readme_names_exists():
    """A new developer copies what the README says: each make target, manage.py command and repo path is real."""
    from django.core.management import get_commands

    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"\bmake ([a-z]+)", readme))
    assert {"demo", "test", "bench"} <= targets
    missing_targets = sorted(t for t in targets if not re.search(rf"^{t}:", makefile, re.M))
    commands = set(re.findall(r"manage\.py ([a-z_]+)", readme))
    assert {"seed_demo", "setup_roles", "seed_periodic_tasks", "collectstatic"} <= commands
    missing_commands = sorted(commands - set(get_commands()))
    # Repo paths in backticks: `docs/quality.md`, `payments/items.py`, `.ci/run` (not URLs like `/ops/`,
    # not the workspace's `../shared/design/`, not var/ which the demo creates).
    paths = {
        p
        for p in re.findall(r"`([A-Za-z_.][\w./-]*/[\w./-]*)`", readme)
        if not p.startswith(("../", "var/")) and "://" not in p
    }
    assert len(paths) > 8, paths
    missing_paths = sorted(p for p in paths if not (ROOT / p).exists())
    assert not (missing_targets or missing_commands or missing_paths), (
        missing_targets,
        missing_commands,
        missing_paths,
    )


def test_env_example_holds_every_variable_production_requires():
    """`cp .env.example .env` and fill in the blanks: production must not then stop on a variable it never listed."""
    import os
    import subprocess
    import sys

    example = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            example[name.strip()] = value.strip()
    assert example["DJANGO_SETTINGS_MODULE"] == "config.settings.prod"
    # The operator fills in what the example leaves empty; nothing else may be needed.
    filled = {name: value or "filled-in" for name, value in example.items()}
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_"))}
    for name in [n for n in clean if n.startswith(("WECHAT", "SECRET_KEY", "JWT_", "FIELD_", "SITE_URL"))]:
        del clean[name]
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**clean, **filled},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "False"
    # Every name production's settings require by name is in the example (not only present by luck).
    prod = (ROOT / "config" / "settings" / "prod.py").read_text()
    required = set(re.findall(r"""_required\(\s*["']([A-Z][A-Z0-9_]+)["']""", prod))
    required |= set(re.findall(r"""^\s+["']([A-Z][A-Z0-9_]+)["'],$""", prod, re.M))
    assert {"SECRET_KEY", "WECHATPAY_MCHID", "DATABASE_URL"} <= required
    assert not sorted(required - set(example)), sorted(required - set(example))
