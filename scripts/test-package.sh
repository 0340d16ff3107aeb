#!/usr/bin/env bash
# The package a DBA installs, tested the way a DBA installs it: scripts/package.sh
# builds it, then with cargo out of the way (a PATH without it, so nothing can be built
# or installed from source behind the test's back) the package alone goes into the
# server's directories (dpkg -i for Debian's PostgreSQL, the tarball otherwise), a
# throwaway cluster starts, CREATE EXTENSION works and part of the plan runs. The
# package is removed afterwards (dpkg -r; the tarball's files deleted) and whatever
# pg_perfsuite files the server had before (a `cargo pgrx install`) are put back.
# Run by scripts/test.sh after the client tests.
#   scripts/test-package.sh 15
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: scripts/test-package.sh <postgresql major version>}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
scripts/package.sh "$major"

arch=$(dpkg --print-architecture)
deb=target/packages/postgresql-$major-pg-perfsuite_${version}_$arch.deb
tarball=target/packages/pg_perfsuite-$version-pg$major-$arch.tar.gz
no_cargo_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
if env PATH=$no_cargo_path bash -c 'command -v cargo' >/dev/null; then
  echo "[package] cargo is on $no_cargo_path itself: the test cannot put it out of the way" >&2
  exit 1
fi
# Everything below runs without cargo.
export PATH=$no_cargo_path
# What the server has installed now, put back when the test is done.
saved=$(mktemp -d)
keep() { cp -a "$1"/pg_perfsuite* "$saved/$2/" 2>/dev/null || true; }
restore() {
  cp -a "$saved"/lib/. "$($PG_CONFIG --pkglibdir)/" 2>/dev/null || true
  cp -a "$saved"/extension/. "$($PG_CONFIG --sharedir)/extension/" 2>/dev/null || true
  rm -rf "$saved"
}
mkdir -p "$saved/lib" "$saved/extension"

if [[ -f $deb ]]; then
  export PG_CONFIG=/usr/lib/postgresql/$major/bin/pg_config
  keep "$($PG_CONFIG --pkglibdir)" lib
  keep "$($PG_CONFIG --sharedir)/extension" extension
  removal() { dpkg -r "postgresql-$major-pg-perfsuite" >/dev/null 2>&1 || true; restore; }
  dpkg -i "$deb" >/dev/null
  owner=$(dpkg -S "$($PG_CONFIG --pkglibdir)/pg_perfsuite.so")
  [[ $owner == "postgresql-$major-pg-perfsuite: "* ]] || { echo "[package] FAIL: the library is not the package's: $owner" >&2; exit 1; }
  how="dpkg -i $(basename "$deb")"
else
  export PG_CONFIG=$(sed -n "s/^pg$major = \"\(.*\)\"$/\1/p" "${PGRX_HOME:-$HOME/.pgrx}/config.toml")
  unpacked=$(mktemp -d)
  tar -xzf "$tarball" -C "$unpacked"
  libdir=$($PG_CONFIG --pkglibdir)
  extdir=$($PG_CONFIG --sharedir)/extension
  keep "$libdir" lib
  keep "$extdir" extension
  rm -f "$libdir/pg_perfsuite.so" "$extdir"/pg_perfsuite*
  cp "$unpacked"/*/lib/* "$libdir/"
  cp "$unpacked"/*/extension/* "$extdir/"
  removal() { rm -f "$libdir/pg_perfsuite.so" "$extdir"/pg_perfsuite*; rm -rf "$unpacked"; restore; }
  how="the tarball $(basename "$tarball")"
fi
source scripts/lib/cluster.sh
cluster_start max_worker_processes=16
trap 'cluster_stop; removal' EXIT
psql_pg -q -d postgres -c "CREATE DATABASE packaged"
psql_pg -q -d packaged -c "SET client_min_messages = warning" -c "CREATE EXTENSION pg_perfsuite CASCADE"
installed=$(psql_pg -d packaged -Atc "SELECT extversion FROM pg_extension WHERE extname = 'pg_perfsuite'")
[[ $installed == "$version" ]] || { echo "[package] FAIL: version $installed installed, $version packaged" >&2; exit 1; }
psql_pg -q -d packaged -c "SET client_min_messages = warning" -c "SELECT count(*) FROM perf_run('1.%')" >/dev/null
read -r status tests < <(psql_pg -d packaged -At -F ' ' -c "SELECT status, tests_total FROM perf_runs ORDER BY run_id DESC LIMIT 1")
[[ $status == completed && $tests -ge 3 ]] || { echo "[package] FAIL: the run after installing is $status ($tests tests)" >&2; exit 1; }
described=$(psql_pg -d packaged -Atc "SELECT obj_description('perf_run_all(text,integer,bigint,boolean,boolean,double precision)'::regprocedure, 'pg_proc') IS NOT NULL")
[[ $described == t ]] || { echo "[package] FAIL: the catalog has no comments" >&2; exit 1; }
echo "[package] PASS: $how, without cargo on the PATH: CREATE EXTENSION pg_perfsuite ($installed) and perf_run('1.%') ($tests tests, $status) on PostgreSQL $major"
