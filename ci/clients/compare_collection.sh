#!/usr/bin/env bash
# Installing xgrad changes no other project's tests (issue 13): two fresh virtual
# environments with the pinned clients (ci/clients/requirements.txt) and pytest, the
# second with xgrad installed too (non-editable, from this checkout); scikit-learn's
# and array-api-extra's own suites collected in each (pytest --collect-only, from an
# empty directory); the test ids must be the same, one for one.
#
#   ci/clients/compare_collection.sh [WORKDIR]    (needs the package index pip uses; ~5 min)
#
# Prints the counts; exits non-zero if the collected ids differ.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
base=${PYTHON:-python3}
work=${1:-$(mktemp -d)}
mkdir -p "$work/run"
printf '[pytest]\n' > "$work/run/pytest.ini"
for env in without with; do
    if [ ! -x "$work/$env/bin/python" ]; then
        "$base" -m venv "$work/$env"
        "$work/$env/bin/pip" install -q -r "$here/requirements.txt" pytest hypothesis array-api-strict
        [ "$env" = with ] && "$work/$env/bin/pip" install -q "$repo"
    fi
done
"$work/without/bin/python" -c "import xgrad" 2>/dev/null && { echo "xgrad importable without it" >&2; exit 1; }
"$work/with/bin/python" -c "import xgrad"
status=0
for suite in array_api_extra.tests.main sklearn; do
    for env in without with; do
        (cd "$work/run" && "$work/$env/bin/python" -m pytest -p no:cacheprovider --collect-only -q \
            --pyargs "$suite" 2>&1 | grep '::' | sort > "$work/$suite.$env.ids") || true
    done
    n_without=$(wc -l < "$work/$suite.without.ids")
    n_with=$(wc -l < "$work/$suite.with.ids")
    echo "$suite: $n_without tests collected without xgrad, $n_with with xgrad installed"
    if ! diff -q "$work/$suite.without.ids" "$work/$suite.with.ids" > /dev/null || [ "$n_without" -eq 0 ]; then
        echo "  DIFFERENT (or nothing collected):"; diff "$work/$suite.without.ids" "$work/$suite.with.ids" | head -20
        status=1
    fi
done
exit $status
