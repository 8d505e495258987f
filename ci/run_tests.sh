#!/usr/bin/env bash
# Run the test suite once per available backend: cpu (NumPy) and strict
# (array-api-strict) always, cuda (CuPy) when a CUDA device is usable.
# Extra arguments go to every pytest run. Exits non-zero if any run fails.
set -u
cd "$(dirname "$0")/.."

backends="${XGRAD_CI_BACKENDS:-cpu strict cuda}"
status=0
ran=0
for backend in $backends; do
    if ! reason=$(python -c "import sys, xgrad.backends as b; r = b.device_available('$backend'); print(r or ''); sys.exit(1 if r else 0)" 2>&1); then
        echo "=== $backend: not available here, skipped ($reason)"
        continue
    fi
    echo "=== pytest on $backend"
    python -m pytest -q -p no:cacheprovider --xgrad-device="$backend" "$@"
    rc=$?
    ran=$((ran + 1))
    if [ $rc -ne 0 ]; then
        echo "=== $backend FAILED (pytest exit $rc)"
        status=1
    fi
done
# dask: a quick run (its own tests, the engine's, the scale example's --quick) when
# dask is installed; XGRAD_CI_DASK=off leaves it out. The whole suite runs on dask
# with: python -m pytest --xgrad-device=dask
if [ "${XGRAD_CI_DASK:-quick}" != off ]; then
    if reason=$(python -c "import sys, xgrad.backends as b; r = b.device_available('dask'); print(r or ''); sys.exit(1 if r else 0)" 2>&1); then
        echo "=== pytest on dask (quick)"
        if python -m pytest -q -p no:cacheprovider --xgrad-device=dask tests/test_dask.py \
                tests/test_core_engine.py "$@" \
                && python examples/dask_logistic_regression.py --quick --no-progress; then
            ran=$((ran + 1))
        else
            echo "=== dask FAILED"
            status=1
        fi
    else
        echo "=== dask: not available here, skipped ($reason)"
    fi
fi
# clients: SciPy's, scikit-learn's and array-api-extra's own array-API tests with
# xgrad as a backend, a quick selection (the whole suites: ci/clients/run.sh --full);
# XGRAD_CI_CLIENTS=off leaves it out.
if [ "${XGRAD_CI_CLIENTS:-quick}" != off ]; then
    if python -c "import scipy, sklearn, array_api_extra" 2>/dev/null; then
        echo "=== clients (quick)"
        if ! PYTHON=python ci/clients/run.sh --quick; then
            echo "=== clients FAILED"
            status=1
        fi
    else
        echo "=== clients: scipy, scikit-learn or array-api-extra not installed, skipped"
    fi
fi
if [ $ran -eq 0 ]; then
    echo "no backend was available: nothing was tested"
    exit 1
fi
exit $status
