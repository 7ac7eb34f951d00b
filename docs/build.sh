#!/usr/bin/env bash
# Build the documentation site with warnings as errors (CI calls this).
# Needs the `docs` extra: sphinx, myst-parser, numpydoc (and the package itself).
# Output: docs/_build/html/index.html
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
"$PY" -m sphinx -W --keep-going -q -b html docs docs/_build/html "$@"
