#!/usr/bin/env bash
# Re-extracts every translatable string and merges it into the catalogs, keeping existing translations.
# Safe to re-run at any time (e.g. after adding _("...") / _l("...") / {{ _('...') }} strings):
#
#   bash scripts/translations.sh       # 1. extract + merge; lists what is still untranslated
#   $EDITOR translations/zh_Hans_CN/LC_MESSAGES/messages.po   # 2. fill the empty msgstr ""
#   .venv/bin/python -m pytest tests/test_translations.py     # 3. check
#   make translations                  # 4. compile the .mo files (git-ignored); this script never compiles
#
# Sources: our app/ (python + Jinja templates) plus Flask-AppBuilder's own python and templates, so that
# our catalog, which Flask-Babel merges over FAB's, completes and overrides FAB's Chinese strings.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
POT=translations/messages.pot
LOCALES=(zh_Hans_CN en)

FAB_DIR=$("$BIN/python" -c 'import os, flask_appbuilder; print(os.path.dirname(flask_appbuilder.__file__))')

# 1. Extract (app/ + Flask-AppBuilder) into one template.
"$BIN/pybabel" -q extract -F babel.cfg \
  -k _l -k lazy_gettext -k gettext -k _ -k ngettext \
  --project "ce-platform" --copyright-holder "ce-platform" \
  -o "$POT" app "$FAB_DIR"

# Location comments of FAB files: strip the machine-specific site-packages prefix.
"$BIN/python" - "$POT" "$FAB_DIR" <<'PY'
import os, re, sys
pot, fab = sys.argv[1], sys.argv[2]
site = os.path.dirname(fab)
prefixes = {os.path.relpath(site) + "/", site + "/"}
with open(pot, encoding="utf-8") as fh:
    text = fh.read()
for p in prefixes:
    text = re.sub(r"(?m)(?<=[: ])" + re.escape(p), "", text)
with open(pot, "w", encoding="utf-8") as fh:
    fh.write(text)
PY

# 2. Merge into each locale (create it if missing). Remember the current translations first (including
#    obsolete "#~" ones), so a string that moves or comes back keeps its translation.
SNAPSHOT=$(mktemp)
trap 'rm -f "$SNAPSHOT"' EXIT
"$BIN/python" - "$SNAPSHOT" "${LOCALES[@]}" <<'PY'
import json, os, sys
from babel.messages.pofile import read_po
out, locales = sys.argv[1], sys.argv[2:]
known = {}
for locale in locales:
    po = f"translations/{locale}/LC_MESSAGES/messages.po"
    if not os.path.exists(po):
        continue
    with open(po, "rb") as fh:
        cat = read_po(fh)
    msgs = {}
    for m in list(cat.obsolete.values()) + list(cat):
        key = json.dumps([m.id, m.context])
        if m.id and (m.string if isinstance(m.string, str) else all(m.string)):
            msgs[key] = m.string
    known[locale] = msgs
with open(out, "w", encoding="utf-8") as fh:
    json.dump(known, fh, ensure_ascii=False)
PY

for locale in "${LOCALES[@]}"; do
  if [[ -f "translations/$locale/LC_MESSAGES/messages.po" ]]; then
    "$BIN/pybabel" -q update -i "$POT" -d translations -l "$locale" --no-fuzzy-matching
  else
    "$BIN/pybabel" -q init -i "$POT" -d translations -l "$locale"
  fi
done

# 3. Refill empty Chinese msgstr from the snapshot, then from Flask-AppBuilder's own zh catalog, and report.
"$BIN/python" - "$SNAPSHOT" "$FAB_DIR" "${LOCALES[@]}" <<'PY'
import json, os, sys
from babel.messages.pofile import read_po, write_po
snapshot, fab, locales = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(snapshot, encoding="utf-8") as fh:
    known = json.load(fh)
with open(os.path.join(fab, "translations/zh/LC_MESSAGES/messages.po"), "rb") as fh:
    fab_zh = {m.id: m.string for m in read_po(fh) if m.id and m.string and not m.fuzzy}

def done(m):
    return bool(m.string if isinstance(m.string, str) else all(m.string))

for locale in locales:
    po = f"translations/{locale}/LC_MESSAGES/messages.po"
    with open(po, "rb") as fh:
        cat = read_po(fh)
    refilled = from_fab = 0
    for m in cat:
        if not m.id or done(m):
            continue
        key = json.dumps([m.id, m.context])
        if key in known.get(locale, {}):
            m.string = known[locale][key] if isinstance(m.string, str) else tuple(known[locale][key])
            refilled += 1
        elif locale.startswith("zh") and m.id in fab_zh:
            m.string = fab_zh[m.id]
            m.flags.add("fuzzy")  # taken from FAB unchecked: review, then drop the fuzzy flag
            from_fab += 1
    if refilled or from_fab:
        with open(po, "wb") as fh:
            write_po(fh, cat, width=76)
    total = sum(1 for m in cat if m.id)
    if locale.startswith("zh"):
        todo = [m for m in cat if m.id and (not done(m) or m.fuzzy)]
        print(f"{locale}: {total} messages, {len(todo)} to translate/review"
              + (f" ({refilled} restored from the previous catalog)" if refilled else ""))
        for m in todo:
            print("  -", "[fuzzy] " if m.fuzzy else "", m.id if isinstance(m.id, str) else m.id[0], sep="")
    else:
        print(f"{locale}: {total} messages (English source, msgstr may stay empty)")
PY
