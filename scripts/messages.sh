#!/usr/bin/env bash
# Translations (GNU gettext; `scripts/bootstrap.sh --system` installs it).
#   scripts/messages.sh            extract: add new source strings to locale/en/LC_MESSAGES/django.po
#   scripts/messages.sh --compile  compile django.po into django.mo (commit both)
# Source strings are Chinese (zh-hans); English is locale/en. tests/core/test_i18n.py fails while a
# string has no English translation, a translation is fuzzy, or the committed .mo is stale.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v msgfmt >/dev/null 2>&1 || { echo "messages: GNU gettext is missing (scripts/bootstrap.sh --system)" >&2; exit 1; }
# --ignore keeps Django from walking into the venv (it would extract or recompile every package's catalog).
ignores=(--ignore=.venv --ignore=var --ignore=node_modules --ignore=tests --ignore=bench)
if [[ "${1:-}" == "--compile" ]]; then
  .venv/bin/python manage.py compilemessages -l en "${ignores[@]}"
else
  # --add-location=file: references without line numbers, so unrelated edits do not churn the .po.
  .venv/bin/python manage.py makemessages -l en --no-obsolete --add-location=file "${ignores[@]}"
  # e.g. "2010 translated messages, 3 fuzzy translations, 5 untranslated messages."
  echo "messages: $(msgfmt --statistics -o /dev/null locale/en/LC_MESSAGES/django.po 2>&1)"
  echo "messages: translate the fuzzy and untranslated entries, then scripts/messages.sh --compile"
fi
