#!/usr/bin/env bash
# The test suite on several PostgreSQL major versions, one after another (each builds
# pgrx's bindings for its version, a few minutes the first time). Prints one PASS/FAIL
# line per version and fails if any version failed.
#   scripts/test-matrix.sh              # 15 16 17 18
#   scripts/test-matrix.sh 15 17        # chosen versions
# 15 comes from Debian (scripts/setup.sh); 16, 17 and 18 from scripts/provision-pg.sh.
set -uo pipefail
cd "$(dirname "$0")/.."
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(15 16 17 18)
scripts/setup.sh || exit 1
logdir=${PG_PERFSUITE_MATRIX_LOGS:-target/test-matrix}
mkdir -p "$logdir"
summary=()
failed=0
for v in "${versions[@]}"; do
  start=$(date +%s)
  log="$logdir/pg$v.log"
  # A version that cannot be obtained (no network to PyPI or Debian) is SKIP, said so;
  # a version whose tests fail is FAIL.
  if ! { [ "$v" = 15 ] || scripts/provision-pg.sh "$v"; } > "$log" 2>&1; then
    result="SKIP (could not provision, see the log)"
  elif PG_PERFSUITE_PG="pg$v" scripts/test.sh >> "$log" 2>&1; then
    result=PASS
  else
    result=FAIL
    failed=1
  fi
  # Every "test result:" line (unit and #[pg_test]s, then each client-test binary).
  tests=$(awk '/^test result:/ { p += $4; f += $6; n++ } END { if (n) printf "%d passed, %d failed in %d test binaries", p, f, n }' "$log")
  summary+=("pg$v $result ($(( $(date +%s) - start )) s) ${tests:-no test result} — $log")
  echo "[matrix] ${summary[-1]}"
done
echo "[matrix] ----"
printf '[matrix] %s\n' "${summary[@]}"
exit $failed
