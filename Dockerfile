# ferrodis container image: compile in the Rust image, run in Debian slim as a non-root user.
#   docker build -t ferrodis .
#   docker run -d -p 6350:6350 -v ferrodis-data:/data ferrodis
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
RUN cargo build --release --locked --bin ferrodis \
    && strip --strip-debug target/release/ferrodis

FROM debian:bookworm-slim
# tini is PID 1: it forwards SIGTERM to ferrodis (which then shuts down cleanly, saving when
# persistence is on) and reaps any orphaned child.
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 999 ferrodis \
    && useradd --system --uid 999 --gid ferrodis --home-dir /data --shell /usr/sbin/nologin ferrodis \
    && mkdir -p /data /etc/ferrodis \
    && chown ferrodis:ferrodis /data
COPY --from=build /src/target/release/ferrodis /usr/local/bin/ferrodis
COPY redis.conf /etc/ferrodis/redis.conf
COPY docker-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
WORKDIR /data
VOLUME /data
USER ferrodis
EXPOSE 6350
# PING through the server's own configuration (port, password from FERRODIS_PASSWORD).
HEALTHCHECK --interval=5s --timeout=3s --retries=10 --start-period=5s \
    CMD ["ferrodis", "healthcheck", "/etc/ferrodis/redis.conf", "--bind", "127.0.0.1"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["tini", "--", "docker-entrypoint.sh"]
CMD []
