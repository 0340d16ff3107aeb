#!/usr/bin/env bash
# Builds pg_perfsuite packages for one PostgreSQL major version, from this checkout:
#   target/packages/postgresql-<major>-pg-perfsuite_<version>_<arch>.deb (arch: dpkg's, amd64 here)
#       for a PostgreSQL installed from Debian packages (its pg_config in
#       /usr/lib/postgresql/<major>/bin): Depends on postgresql-<major>, Recommends
#       postgresql-<major>-cron; the library, the control file, the install script and
#       every upgrade script, a changelog entry. Install: dpkg -i <file>.
#   target/packages/pg_perfsuite-<version>-pg<major>-<arch>.tar.gz
#       for any other build of that major (here 16, 17 and 18 are not Debian packages):
#       lib/pg_perfsuite.so and extension/pg_perfsuite*; unpack and copy lib/ into
#       `pg_config --pkglibdir` and extension/ into `pg_config --sharedir`/extension.
# The release build comes from `cargo pgrx package` against that version's pg_config
# (Debian's for 15, else the one registered with `cargo pgrx init`).
#   scripts/package.sh 15
set -euo pipefail
cd "$(dirname "$0")/.."
major=${1:?usage: scripts/package.sh <postgresql major version>}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
arch=$(dpkg --print-architecture)
debian_pg_config=/usr/lib/postgresql/$major/bin/pg_config
if [[ -x $debian_pg_config ]] && dpkg -S "$debian_pg_config" >/dev/null 2>&1; then
  pg_config=$debian_pg_config
  debian=1
else
  pg_config=$(sed -n "s/^pg$major = \"\(.*\)\"$/\1/p" "${PGRX_HOME:-$HOME/.pgrx}/config.toml")
  [[ -x $pg_config ]] || { echo "[package] no pg_config for PostgreSQL $major (scripts/provision-pg.sh $major, then cargo pgrx init)" >&2; exit 1; }
  debian=0
fi
out=target/packages
tree=$out/tree-pg$major
rm -rf "$tree"
mkdir -p "$out"
echo "[package] cargo pgrx package --pg-config $pg_config"
cargo pgrx package --pg-config "$pg_config" --out-dir "$tree" >/dev/null
libdir=$("$pg_config" --pkglibdir)
sharedir=$("$pg_config" --sharedir)
# Upgrade scripts: every released step, as ALTER EXTENSION UPDATE looks for them.
cp sql/pg_perfsuite--*--*.sql "$tree$sharedir/extension/"
[[ -f $tree$libdir/pg_perfsuite.so && -f $tree$sharedir/extension/pg_perfsuite--$version.sql ]] \
  || { echo "[package] cargo pgrx package did not produce the library and install script" >&2; exit 1; }

if ((debian)); then
  name=postgresql-$major-pg-perfsuite
  deb=$out/${name}_${version}_$arch.deb
  root=$out/deb-pg$major
  rm -rf "$root"
  mkdir -p "$root/DEBIAN" "$root/usr/share/doc/$name"
  cp -a "$tree/." "$root/"
  cat > "$root/DEBIAN/control" <<EOF
Package: $name
Version: $version
Architecture: $arch
Maintainer: pg_perfsuite developers <pg_perfsuite@localhost>
Depends: postgresql-$major, libc6
Recommends: postgresql-$major-cron
Section: database
Priority: optional
Installed-Size: $(du -sk "$root/usr" | cut -f1)
Description: customer-management performance test plan, run inside PostgreSQL $major
 pg_perfsuite runs a multi-tenant performance test plan inside the server:
 SELECT * FROM perf_run_all(); generates the plan's data, runs its timed
 scenarios, tenant-isolation checks, concurrency and load tests, and records
 PASS/WARN/FAIL verdicts with a report. CREATE EXTENSION pg_perfsuite CASCADE.
EOF
  {
    echo "$name ($version) unstable; urgency=medium"
    echo
    echo "  * pg_perfsuite $version built from commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)."
    echo
    echo " -- pg_perfsuite developers <pg_perfsuite@localhost>  $(date -R)"
  } | gzip -9n > "$root/usr/share/doc/$name/changelog.Debian.gz"
  cp LICENSE* "$root/usr/share/doc/$name/" 2>/dev/null || true
  dpkg-deb --build --root-owner-group "$root" "$deb" >/dev/null
  echo "[package] $deb ($(du -h "$deb" | cut -f1))"
else
  tarball=$out/pg_perfsuite-$version-pg$major-$arch.tar.gz
  stage=$out/tar-pg$major/pg_perfsuite-$version-pg$major
  rm -rf "$out/tar-pg$major"
  mkdir -p "$stage/lib" "$stage/extension"
  cp "$tree$libdir/pg_perfsuite.so" "$stage/lib/"
  cp "$tree$sharedir/extension/"pg_perfsuite* "$stage/extension/"
  tar -czf "$tarball" -C "$out/tar-pg$major" "pg_perfsuite-$version-pg$major"
  echo "[package] $tarball ($(du -h "$tarball" | cut -f1))"
fi
