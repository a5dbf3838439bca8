#!/bin/sh
# Starts ferrodis in the container from the shipped redis.conf, with what a container needs on
# top: listen on every interface (the published port is the boundary), the password from
# FERRODIS_PASSWORD when set, and without one protected mode off (otherwise every client coming
# through Docker's NAT would be refused). Arguments are extra `--directive value` options.
# `exec` makes ferrodis the process tini signals.
set -eu
CONF="${FERRODIS_CONF:-/etc/ferrodis/redis.conf}"
if [ -n "${FERRODIS_PASSWORD:-}" ]; then
    set -- --requirepass "$FERRODIS_PASSWORD" "$@"
else
    set -- --protected-mode no "$@"
fi
exec ferrodis "$CONF" --bind "${FERRODIS_BIND:-0.0.0.0 -::}" "$@"
