#!/usr/bin/env bash
# Download the wheels the GPU check needs (beside what the device image has:
# CuPy, PyTorch, NumPy, SciPy, scikit-learn, pytest, hypothesis, matplotlib,
# tqdm) into the ignored folder .whl/: pure-Python packages, exact versions,
# for Python 3.12 on manylinux x86-64. Run it here, where PyPI is reachable;
# ci/gpu_check.sh installs them on the GPU machine without network.
set -eu
cd "$(dirname "$0")/.."
WHEELS=(
    array-api-compat==1.16.0   # xgrad's runtime dependency
    array-api-strict==2.6.1    # the strict device the suite also runs on
    autograd==1.9.1            # HIPS autograd, a benchmark peer
    graphviz==0.21             # xgrad.viz tests
)
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "${WHEELS[@]}"
ls -l .whl
du -sh .whl
