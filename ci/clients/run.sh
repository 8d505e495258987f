#!/usr/bin/env bash
# The clients job: SciPy's, scikit-learn's and array-api-extra's own array-API tests,
# with xgrad added as one more backend (ci/clients/xgrad_clients.py holds every patch),
# on the cpu device in float64. The test files are those of the installed, pinned
# packages (ci/clients/requirements.txt): all three wheels ship their tests.
#
#   ci/clients/run.sh [--quick | --full] [scipy] [sklearn] [xpx] [-- pytest args...]
#
# --quick (the default, what ci/run_tests.sh runs): a selection of each, a few minutes
# on 2 cores; --full: the whole suites. Expected failures (the clients', with reasons):
# ci/clients/expected_failures.txt. Exits non-zero if any client's run fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
mode=quick
clients=()
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) mode=quick ;;
        --full) mode=full ;;
        scipy|sklearn|xpx) clients+=("$1") ;;
        --) shift; extra=("$@"); break ;;
        *) echo "usage: $0 [--quick|--full] [scipy] [sklearn] [xpx] [-- pytest args]" >&2; exit 2 ;;
    esac
    shift
done
[ ${#clients[@]} -eq 0 ] && clients=(scipy sklearn xpx)

export SCIPY_ARRAY_API=1
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"
[ "$mode" = full ] && export XGRAD_CLIENTS_FULL=1
python=${PYTHON:-python}
work=$(mktemp -d)  # run outside the repository: no xgrad conftest, no pyproject
trap 'rm -rf "$work"' EXIT
cat > "$work/pytest.ini" <<'INI'
[pytest]
markers =
    skip_xp_backend(library, /, *, reason=None): array-api-extra's
    xfail_xp_backend(library, /, *, reason=None, strict=None): array-api-extra's
    array_api_backends: SciPy's
    skip_xp_backends: SciPy's
    xfail_xp_backends: SciPy's
    thread_unsafe: SciPy's and array-api-extra's
INI
cd "$work"

# SciPy: the array-API-parametrized tests (the `xp` fixture) of these subpackages
scipy_full="scipy.special scipy.stats scipy.signal scipy.fft scipy.ndimage scipy.integrate
            scipy.spatial scipy.cluster scipy.interpolate scipy._lib"
scipy_quick="scipy.special.tests.test_logsumexp scipy.special.tests.test_basic
             scipy.stats.tests.test_device_dtype scipy.stats.tests.test_correlation
             scipy.signal.tests.test_windows scipy.fft.tests.test_basic
             scipy.ndimage.tests.test_measurements scipy.integrate.tests.test_quadrature
             scipy.spatial.tests.test_distance scipy.cluster.tests.test_vq
             scipy.interpolate.tests.test_rbfinterp scipy._lib.tests.test__util"
# scikit-learn: everything parametrized by yield_namespace_device_dtype_combinations,
# including the estimator checks (sklearn/tests/test_common.py, check_array_api_input)
sklearn_full="sklearn"
sklearn_quick="sklearn.utils.tests.test_array_api sklearn.metrics.tests.test_common
               sklearn.decomposition.tests.test_pca sklearn.linear_model.tests.test_ridge
               sklearn.preprocessing.tests.test_data sklearn.tests.test_common"
# array-api-extra: its whole suite (the wheel ships tests/main with its conftest)
xpx_full="array_api_extra.tests.main"
xpx_quick="array_api_extra.tests.main"
# each client's own pytest settings that its tests rely on (array-api-extra's
# pyproject.toml: filterwarnings = error, xfail_strict = true)
scipy_opts=""
sklearn_opts=""
xpx_opts="-W error -o xfail_strict=true"

status=0
for client in "${clients[@]}"; do
    var="${client}_${mode}"
    targets=${!var}
    var="${client}_opts"
    opts=${!var}
    echo "=== clients: $client ($mode)"
    # shellcheck disable=SC2086
    "$python" -m pytest -p xgrad_clients -p no:cacheprovider -c "$work/pytest.ini" \
        --rootdir "$work" -q -rfEX -k xgrad $opts --pyargs $targets "${extra[@]}"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "=== clients: $client FAILED (pytest exit $rc)"
        status=1
    fi
done
exit $status
