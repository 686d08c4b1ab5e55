#!/usr/bin/env bash
# Mutation testing of the engine's core with mutmut 3 (settings: [tool.mutmut] in pyproject.toml).
#
#   tools/mutation.sh                         # every configured module (slow: ~3,800 mutants)
#   tools/mutation.sh loyalty_engine.money. loyalty_engine.ledger.lots.   # only these modules
#
# Resumable: a mutant already checked is not run again, so a run cut short (MUTATION_BUDGET)
# goes on where it stopped. Results live in mutants/ (git-ignored); then
#   mutmut results                 # survivors (add --all true for every mutant)
#   mutmut show NAME               # the diff of one mutant
# Env: MUTATION_JOBS (default 1) worker processes, MUTATION_BUDGET (default 0 = none) wall-clock
# limit for the run, as for timeout(1), e.g. 70m; LOYALTY_HYPOTHESIS_EXAMPLES (default 25).
# Delete mutants/ after changing [tool.mutmut] or the tests' selection to start afresh.
set -euo pipefail
cd "$(dirname "$0")/.."

export LOYALTY_HYPOTHESIS_EXAMPLES="${LOYALTY_HYPOTHESIS_EXAMPLES:-25}"
JOBS="${MUTATION_JOBS:-1}"
BUDGET="${MUTATION_BUDGET:-0}"

run() {  # timeout(1) signals its whole process group, so mutmut's forked workers stop too
    if [ "$BUDGET" != 0 ]; then
        timeout --signal=TERM "$BUDGET" mutmut run --max-children "$JOBS" "$@" || true
    else
        mutmut run --max-children "$JOBS" "$@"
    fi
}

# Not yet checked mutants (exit code null in mutants/**/*.py.meta) whose names start with $@.
pending() {
    python3 - "$@" <<'PY'
import json, pathlib, sys
prefixes = tuple(sys.argv[1:]) or ("",)
for meta in sorted(pathlib.Path("mutants").rglob("*.py.meta")):
    for name, code in json.loads(meta.read_text())["exit_code_by_key"].items():
        if code is None and name.startswith(prefixes):
            print(name)
PY
}

summary() {  # per-module counts
    python3 - <<'PY'
import collections, json, pathlib
from mutmut.stats import status_by_exit_code
print(f"{'module':40} {'mutants':>7} {'killed':>6} {'surv':>5} {'tmout':>5} {'notest':>6} {'other':>5} {'unchk':>5}  score")
for meta in sorted(pathlib.Path("mutants").rglob("*.py.meta")):
    codes = json.loads(meta.read_text())["exit_code_by_key"]
    if not codes:
        continue
    c = collections.Counter(status_by_exit_code[v] for v in codes.values())
    k, s, t, n, u = c["killed"], c["survived"], c["timeout"], c["no tests"], c["not checked"]
    o = len(codes) - k - s - t - n - u
    score = f"{100 * (k + t) / (k + t + s):.1f}%" if k + t + s else "-"
    name = str(meta.relative_to("mutants"))[: -len(".meta")]
    print(f"{name:40} {len(codes):7} {k:6} {s:5} {t:5} {n:6} {o:5} {u:5}  {score}")
PY
}

if [ $# -eq 0 ]; then
    run  # no names: mutmut itself skips what is already checked
elif [ -z "$(find mutants -name '*.py.meta' 2>/dev/null | head -n 1)" ]; then
    run "${@/%/*}"  # first run: generate mutants/ and check those matching PREFIX*
else
    # Named globs would re-run checked mutants, so name the unchecked ones explicitly.
    mapfile -t todo < <(pending "$@")
    if [ "${#todo[@]}" -gt 0 ]; then run "${todo[@]}"; else echo "nothing left to check for: $*"; fi
fi
summary
