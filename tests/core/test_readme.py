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
