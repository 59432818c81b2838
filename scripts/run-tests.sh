#!/usr/bin/env bash
# Runs every test suite (lit + FileCheck, GoogleTest, pytest) against the build
# in $1, writes JUnit XML reports to $1/test-reports, and ends with one line
# `N passed, N failed, N skipped`. Exit status: non-zero if anything failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-build}" && pwd)
reports="$build/test-reports"
rm -rf "$reports"
mkdir -p "$reports"
python="$root/.venv/bin/python"
status=0

echo "== lit (FileCheck) tests"
/usr/lib/llvm-22/bin/lit -sv --xunit-xml-output="$reports/lit.xml" "$build/test" || status=1

echo "== GoogleTest unit tests"
"$build/bin/quarc-unittests" --gtest_output="xml:$reports/unit.xml" || status=1

# One pytest worker per core, each taking whole files (pytest-xdist): the
# tests spend most of their time in single-threaded compiles, and a file's
# module fixtures (compiled models) are then built once. On CI's 2 cores the
# suite took 39 minutes in one process on a slow day, 32 in two workers
# (conftest.py starts the longest files first). QUARC_TEST_JOBS=0 runs it in
# one process.
echo "== pytest (conformance, real models)"
QUARC_BUILD_DIR="$build" "$python" -m pytest -q -rs "$root/test/python" \
  -n "${QUARC_TEST_JOBS:-$(nproc)}" --dist loadfile \
  --junitxml="$reports/pytest.xml"
pytest_status=$?
# pytest exits 5 when it collects no test: that is a failure of the suite.
[ $pytest_status -eq 0 ] || status=1

"$python" "$root/scripts/summarize-junit.py" "$reports"/*.xml || status=1
exit $status
