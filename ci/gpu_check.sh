#!/usr/bin/env bash
# The GPU check: the whole suite on cuda (and cpu beside it), the examples on
# cuda, and the GPU benchmarks, in one run that fits a short lease of a GPU
# machine without network. Usage, from the repository root:
#
#     ci/prepare_gpu_wheels.sh          # here, with PyPI: fills .whl/
#     bash ci/gpu_check.sh [OUT_DIR]    # there: logs go to OUT_DIR ($OUT, else gpu-out/)
#
# Everything is written to OUT_DIR as it goes, so a run cut short still leaves
# its logs. Where no CUDA device is usable, the CUDA parts are skipped with a
# message and only the cpu pass runs (a dry run of the script's logic).
# Time limits (seconds) can be set: XGRAD_GPU_TEST_TIMEOUT (cuda suite, 240),
# XGRAD_CPU_TEST_TIMEOUT (60), XGRAD_EXAMPLE_TIMEOUT (each example, 45),
# XGRAD_BENCH_TIMEOUT (100).
set -u
cd "$(dirname "$0")/.."
OUT_DIR="${1:-${OUT:-gpu-out}}"
mkdir -p "$OUT_DIR"
PY="${PYTHON:-python3}"
SUMMARY="$OUT_DIR/gpu-check.log"
: > "$SUMMARY"
export PYTHONUNBUFFERED=1

say() { echo "=== $*" | tee -a "$SUMMARY"; }

# 1. The carried wheels and xgrad, without network.
if compgen -G ".whl/*.whl" > /dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/xgrad-site .whl/*.whl >> "$SUMMARY" 2>&1 \
        || say "installing the carried wheels failed (see above)"
    export PYTHONPATH="$PWD:/tmp/xgrad-site${PYTHONPATH:+:$PYTHONPATH}"
else
    say "no .whl/ folder: using the packages already installed"
    export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi

# 2. What we run on.
{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "(no nvidia-smi)"
    "$PY" - <<'EOF'
import importlib, platform
print("python", platform.python_version())
for name in ("xgrad", "numpy", "cupy", "torch", "array_api_compat", "array_api_strict", "scipy",
             "sklearn", "pytest", "hypothesis"):
    try:
        print(name, getattr(importlib.import_module(name), "__version__", "?"))
    except Exception as exc:  # a missing package is reported, not fatal
        print(name, "missing:", exc)
EOF
    "$PY" -m xgrad.info
} > "$OUT_DIR/versions.txt" 2>&1
cat "$OUT_DIR/versions.txt" >> "$SUMMARY"

cuda_reason=$("$PY" -c "import xgrad.backends as b; print(b.device_available('cuda') or '')" 2>&1)
status=0

# pytest-xdist (in the GPU image) spreads the suite over the machine's cores; the
# processes share the GPU and CuPy's on-disk kernel cache
workers=()
if "$PY" -c "import xdist" 2>/dev/null; then
    workers=(-n "${XGRAD_TEST_WORKERS:-8}")
fi

run_suite() {  # run_suite DEVICE TIMEOUT LOG
    say "pytest on $1 (limit $2 s${workers[*]:+, ${workers[*]}})"
    timeout "$2" "$PY" -m pytest -q -p no:cacheprovider -p no:randomly --xgrad-device="$1" \
        -o addopts="" "${workers[@]}" > "$3" 2>&1
    local rc=$?
    tail -n 3 "$3" | tee -a "$SUMMARY"
    [ $rc -eq 124 ] && say "$1 suite stopped at its time limit"
    [ $rc -ne 0 ] && status=1
    return 0
}

if [ -n "$cuda_reason" ]; then
    say "no usable CUDA device ($cuda_reason): the CUDA parts are skipped; cpu pass only (dry run)"
    run_suite cpu "${XGRAD_CPU_TEST_TIMEOUT:-60}" "$OUT_DIR/cpu-tests.log"
    exit $status
fi

# 3. The suite on cuda, then on cpu for comparison.
run_suite cuda "${XGRAD_GPU_TEST_TIMEOUT:-240}" "$OUT_DIR/gpu-tests.log"
run_suite cpu "${XGRAD_CPU_TEST_TIMEOUT:-60}" "$OUT_DIR/cpu-tests.log"

# 4. The examples on cuda, CI-sized.
for example in linear_regression newton mlp_digits cnn_digits; do
    say "example $example on cuda"
    XGRAD_DEVICE=cuda timeout "${XGRAD_EXAMPLE_TIMEOUT:-45}" "$PY" "examples/$example.py" --quick \
        >> "$OUT_DIR/gpu-examples.log" 2>&1 || { say "example $example failed"; status=1; }
    tail -n 2 "$OUT_DIR/gpu-examples.log" | tee -a "$SUMMARY"
done

# 5. The GPU benchmarks: xgrad on CuPy, PyTorch CUDA, hand-written CuPy.
say "benchmarks (GPU variants)"
timeout "${XGRAD_BENCH_TIMEOUT:-100}" "$PY" -m benchmarks --gpu-only --repeats 5 \
    > "$OUT_DIR/gpu-bench.log" 2>&1 || { say "benchmarks failed or timed out"; status=1; }
cp benchmarks/results/gpu.md benchmarks/results/gpu.json "$OUT_DIR/" 2>/dev/null
tail -n 12 "$OUT_DIR/gpu-bench.log" | tee -a "$SUMMARY"
say "done (exit $status)"
exit $status
