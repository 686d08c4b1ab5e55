#!/usr/bin/env bash
# Build the documentation site strict, then run its examples as doctests. Run from anywhere; needs
# the docs and testing extras (pip install -e '.[docs,testing]'; dev has both). The site lands in
# docs/_build/html.
set -euo pipefail
cd "$(dirname "$0")/.."
# -W: every warning is an error; --keep-going: report them all; -n: every reference must resolve
python -m sphinx -W --keep-going -n -b html docs docs/_build/html
python -m sphinx -W --keep-going -b doctest docs docs/_build/doctest
