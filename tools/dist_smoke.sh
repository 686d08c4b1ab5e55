#!/usr/bin/env bash
# Build the wheel and the sdist, install each in a fresh virtualenv, and run the Quickstart's
# preorder from it: what a user of the published package gets. With the wheel, also a user's
# property test: without hypothesis, loyalty_engine.testing names the extra; with the testing
# extra, the README's test file passes under pytest. Run from the repository root.
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
  if [[ "$artifact" == *.whl ]]; then
    user="$work/user"
    mkdir -p "$user/examples/showcase"
    cp examples/showcase/program.toml "$user/examples/showcase/"
    python3 - "$user/test_my_rules.py" <<'PY'
import pathlib, sys
text = pathlib.Path("README.md").read_text(encoding="utf-8")
block = text[text.index("```python\n# test_my_rules.py") + len("```python\n"):]
pathlib.Path(sys.argv[1]).write_text(block[: block.index("```")], encoding="utf-8")
PY
    missing="$(cd "$user" && "$work/venv/bin/python" -c 'import loyalty_engine.testing' 2>&1 || true)"
    grep -q "pip install 'loyalty_engine\[testing\]'" <<<"$missing" \
      || { echo "no extra named without hypothesis: $missing"; exit 1; }
    "$work/venv/bin/python" -m pip install --quiet "$artifact[testing]"
    (cd "$user" && "$work/venv/bin/python" -m pytest -q -p no:cacheprovider --loyalty-profile ci test_my_rules.py) \
      || { echo "the README's property test failed from the wheel"; exit 1; }
  fi
  echo "ok: $(basename "$artifact")"
  rm -rf "$work/venv"
done
rm -rf "$work"
