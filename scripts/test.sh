#!/usr/bin/env bash
# The ONE command that runs the whole ferrodis test suite, also on a fresh
# Debian machine:  bash scripts/test.sh
#
# 1. installs what is missing (Debian packages via apt-get),
# 2. cargo fmt --check
# 3. cargo clippy --all-targets -- -D warnings
# 4. cargo test --all-targets --no-fail-fast  (unit, integration, differential, protocol,
#                                random differential tests; benches run once)
# Every step runs even if an earlier one failed; the script exits non-zero if
# any step failed.
#
# Why debug builds (plain `cargo test`) and not `--release`: on the 2-core CI
# machine compile time dominates. A release build (thin LTO) of ferrodis plus
# its dependencies takes several times longer than a debug build, while the
# tests are short and bound by localhost round trips, so the debug binary is
# fast enough. Dependencies are shared between the test build and the
# `ferrodis` binary cargo builds for CARGO_BIN_EXE_ferrodis, so one debug
# build serves everything. (clippy needs its own check-mode pass regardless.)
#
# Environment:
#   FERRODIS_DIFF_SELFTEST=1  differential tests compare redis-server against
#                             a second redis-server (proves the harness).
#   FERRODIS_SEED=<n>         seed of tests/random_diff.rs.
#   CARGO_TARGET_DIR          honoured as usual.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '\n==> %s\n' "$*"; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "need root (or sudo) to run: $*" >&2
        return 1
    fi
}

APT_UPDATED=0
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "apt-get not available; please install: $*" >&2
        return 1
    fi
    if [ "$APT_UPDATED" -eq 0 ]; then
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update || return 1
        APT_UPDATED=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

install_prerequisites() {
    # Real Redis: the reference server for the differential tests, redis-cli
    # and redis-benchmark.
    local pkgs=()
    command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
    command -v redis-cli >/dev/null 2>&1 || pkgs+=(redis-tools)
    command -v redis-benchmark >/dev/null 2>&1 || pkgs+=(redis-tools)
    # tests/deploy.rs: the compose files are validated by docker-compose (no Docker engine
    # needed) and the image's entry point runs under tini as in the container.
    command -v docker-compose >/dev/null 2>&1 || pkgs+=(docker-compose)
    command -v tini >/dev/null 2>&1 || pkgs+=(tini)
    # tests/tls.rs makes its certificates with the openssl command line.
    command -v openssl >/dev/null 2>&1 || pkgs+=(openssl)
    if [ "${#pkgs[@]}" -gt 0 ]; then
        log "installing ${pkgs[*]}"
        # shellcheck disable=SC2046
        apt_install $(printf '%s\n' "${pkgs[@]}" | sort -u) || return 1
    fi

    # Rust toolchain (edition 2024 needs Rust >= 1.85; Debian's cargo may be
    # older; the machine image provides it).
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        export PATH="$HOME/.cargo/bin:$PATH"
    fi
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo (Rust >= 1.85) is required; install the Rust toolchain first" >&2
        return 1
    fi
    if command -v rustup >/dev/null 2>&1; then
        cargo clippy --version >/dev/null 2>&1 || rustup component add clippy || return 1
        cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt || return 1
    fi

    # Client libraries for tests/clients.rs (Celery...), in a venv under the target dir.
    local target="${CARGO_TARGET_DIR:-target}"
    local venv="$target/client-venv"
    if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        log "installing python3-venv"
        apt_install python3-venv python3-pip || return 1
    fi
    if [ ! -x "$venv/bin/python" ]; then
        log "creating $venv"
        python3 -m venv "$venv" || return 1
    fi
    if ! cmp -s tests/clients/requirements.txt "$venv/.installed-requirements"; then
        log "installing Python client libraries"
        # `python -m pip`, not bin/pip: a copied venv's scripts keep the old venv's path.
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
            -r tests/clients/requirements.txt || return 1
        cp tests/clients/requirements.txt "$venv/.installed-requirements"
    fi
    # Node client libraries (BullMQ, ioredis) for tests/clients.rs, pinned by package.json and package-lock.json.
    if ! command -v npm >/dev/null 2>&1; then
        log "installing nodejs and npm"
        apt_install nodejs npm || return 1
    fi
    # Reinstall whenever package-lock.json changed since the last install (a copy is kept in
    # node_modules), so a machine with an older node_modules gets the pinned versions.
    if ! cmp -s tests/clients/package-lock.json tests/clients/node_modules/.installed-package-lock.json; then
        log "installing Node client libraries"
        # npm install (not npm ci): it installs the locked versions too, and npm ci rejects a
        # lock file that lists no entry for optional packages of other platforms (msgpackr's
        # prebuilt binaries) when the registry did not provide them.
        (cd tests/clients && npm install --no-audit --no-fund --silent) || return 1
        cp tests/clients/package-lock.json tests/clients/node_modules/.installed-package-lock.json
    fi
    return 0
}

FAILED=()
step() {
    local name="$1"
    shift
    log "$name: $*"
    if "$@"; then
        echo "--> $name: ok"
    else
        echo "--> $name: FAILED" >&2
        FAILED+=("$name")
    fi
}

step prerequisites install_prerequisites
if [ "${#FAILED[@]}" -gt 0 ]; then
    echo "cannot continue without prerequisites" >&2
    exit 1
fi
redis-server --version
# The corpus is validated against Debian bookworm's redis-server 7.0.x; other
# major versions change error texts and replies.
if ! redis-server --version | grep -q ' v=7\.'; then
    echo "WARNING: reference redis-server is not 7.x; differential tests may disagree" >&2
fi

step fmt cargo fmt --all -- --check
step clippy cargo clippy --all-targets -- -D warnings
step test cargo test --all-targets --no-fail-fast

if [ "${#FAILED[@]}" -gt 0 ]; then
    log "FAILED steps: ${FAILED[*]}"
    exit 1
fi
log "all steps passed"
