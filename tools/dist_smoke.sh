#!/usr/bin/env bash
# Build the wheel and the sdist, install each in a fresh virtualenv, and run the Quickstart's
# preorder from it: what a user of the published package gets. Run from the repository root.
set -euo pipefail
work="$(mktemp -d)"
python -m pip install --quiet build
python -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
listing="$(tar -tzf "$work"/dist/*.tar.gz)"
grep -q '/LICENSE$' <<<"$listing" || { echo "the sdist has no LICENSE"; exit 1; }
for artifact in "$work"/dist/*.whl "$work"/dist/*.tar.gz; do
  python3 -m venv "$work/venv"
  "$work/venv/bin/python" -m pip install --quiet "$artifact"
  out="$(cd "$work" && "$work/venv/bin/loyalty-engine" preorder "$OLDPWD/examples/seed_003/request.json" \
    --program "$OLDPWD/examples/seed_003/program.toml" --member "$OLDPWD/examples/seed_003/member.json" \
    --now 2026-02-18T13:00:00Z)"
  grep -q '"final_total_price": "139500.00"' <<<"$out" || { echo "$artifact: wrong preorder: $out"; exit 1; }
  (cd "$work" && "$work/venv/bin/python" -c \
    "import importlib.metadata as m, loyalty_engine as le; assert le.__version__ == m.version('loyalty_engine'); assert m.metadata('loyalty_engine')['License-Expression'] == 'MIT'")
  echo "ok: $(basename "$artifact")"
  rm -rf "$work/venv"
done
rm -rf "$work"
