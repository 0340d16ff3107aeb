#!/usr/bin/env bash
# Installs everything pg_perfsuite needs on a Debian bookworm machine, as root.
# Idempotent: each step checks first and skips what is already there.
#   scripts/setup.sh            # PostgreSQL 15 toolchain (what the tests need)
set -euo pipefail

PGRX_VERSION=0.18.1
PG15_CONFIG=/usr/lib/postgresql/15/bin/pg_config
APT_PACKAGES=(postgresql-15 postgresql-server-dev-15 postgresql-15-cron postgresql-15-hypopg postgresql-contrib
              libclang-dev clang pkg-config libssl-dev make gcc sudo bison flex
              libreadline-dev zlib1g-dev ca-certificates python3)

say()  { printf '[setup] %s\n' "$*"; }
die()  { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "run as root (it installs Debian packages); e.g. sudo $0"
command -v cargo >/dev/null || die "cargo not found: install Rust (rustup) first; Rust >= 1.88 is needed by pgrx $PGRX_VERSION"

# 1. Debian packages ---------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || die "apt-get update failed (no access to Debian mirrors?)"
  # Do not let the postgresql package start a cluster of its own on 5432.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]}"
else
  say "Debian packages: all present"
fi
[[ -x $PG15_CONFIG ]] || die "$PG15_CONFIG missing after install"

# 2. cargo-pgrx ----------------------------------------------------------------
if cargo pgrx --version 2>/dev/null | grep -q " $PGRX_VERSION\$"; then
  say "cargo-pgrx $PGRX_VERSION: present"
else
  say "installing cargo-pgrx $PGRX_VERSION (about 11 minutes on 2 cores)"
  cargo install cargo-pgrx --version "$PGRX_VERSION" --locked \
    || die "cargo install cargo-pgrx $PGRX_VERSION failed"
fi

# 2b. rustfmt and clippy (scripts/test.sh checks formatting and lints).
for comp in rustfmt clippy; do
  cmd=$([[ $comp == rustfmt ]] && echo fmt || echo clippy)
  if cargo "$cmd" --version >/dev/null 2>&1; then
    say "$comp: present"
  elif command -v rustup >/dev/null && rustup component add "$comp" >/dev/null 2>&1; then
    say "$comp: installed with rustup"
  else
    die "cargo $cmd is missing and rustup could not add $comp"
  fi
done

# 2c. A German locale: a client test proves that no decision depends on message text
#     by running with PostgreSQL's German messages (Debian ships them with the server).
if locale -a 2>/dev/null | grep -qi '^de_DE\.utf-\?8$'; then
  say "locale de_DE.UTF-8: present"
elif command -v localedef >/dev/null && localedef -i de_DE -c -f UTF-8 de_DE.UTF-8 >/dev/null 2>&1; then
  say "locale de_DE.UTF-8: generated"
else
  say "locale de_DE.UTF-8: not available (the message-language test will be skipped)"
fi

# 3. cargo pgrx init with the local PostgreSQL 15 -----------------------------------
PGRX_HOME=${PGRX_HOME:-$HOME/.pgrx}
if [[ -f $PGRX_HOME/config.toml ]] && grep -q "pg15 = \"$PG15_CONFIG\"" "$PGRX_HOME/config.toml"; then
  say "cargo pgrx init: pg15 already registered"
else
  say "cargo pgrx init --pg15 $PG15_CONFIG"
  cargo pgrx init --pg15 "$PG15_CONFIG" || die "cargo pgrx init failed"
fi

# 4. The pgrx install target must be writable by us and the test cluster by postgres.
id postgres >/dev/null 2>&1 || die "OS user postgres missing (postgresql-15 should have created it)"
say "ready: cargo pgrx $(cargo pgrx --version | awk '{print $2}'), PostgreSQL $($PG15_CONFIG --version | awk '{print $2}')"
