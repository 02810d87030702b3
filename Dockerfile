# syntax=docker/dockerfile:1
# cloudoptima in a container: `docker build -t cloudoptima .` (deploy/README.md has the rest).
#
# Stage 1 builds the dependencies alone (their layer is reused while Cargo.toml and Cargo.lock stay
# the same), then the project. Stage 2 is a slim Debian with the binary, the SQL, the pipelines and
# the data files, run as a non-root user; the lake lives on the /data volume or on ADLS.

FROM rust:1.95-slim-trixie AS build
WORKDIR /src
# Dependencies only: a manifest with empty sources compiles every crate the project uses.
COPY Cargo.toml Cargo.lock build.rs ./
RUN mkdir -p src tests/it sql/rules/views sql/report \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs tests/it/main.rs \
    && cargo build --release --locked \
    && rm -rf src tests sql
# The project itself.
COPY src src
COPY sql sql
COPY data data
COPY assets assets
COPY tests/it tests/it
RUN touch src/main.rs src/lib.rs build.rs \
    && cargo build --release --locked \
    && strip target/release/cloudoptima

FROM debian:trixie-slim
# CA certificates for Azure, SMTP and model endpoints; tzdata is compiled in (chrono-tz). Not pinned
# (DL3008): the image should get the distribution's current CA bundle whenever it is rebuilt.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin cloudoptima \
    && mkdir -p /data \
    && chown cloudoptima /data
COPY --from=build /src/target/release/cloudoptima /usr/local/bin/cloudoptima
# The built-in SQL is compiled in; these copies are for `--rules /app/sql/rules` after editing.
COPY sql /app/sql
COPY pipelines /app/pipelines
COPY config /app/config
COPY data /app/data
# Runs write the lake, reports and outbox under the working directory (a volume, or the lake on
# ADLS with CLOUDOPTIMA_LAKE=abfss://…). Mount your own pipelines over /app/pipelines.
ENV CLOUDOPTIMA_PIPELINES=/app/pipelines \
    CLOUDOPTIMA_LAKE=/data/lake
WORKDIR /data
VOLUME ["/data"]
USER 10001
# 9184: the daemon's /healthz and /metrics; 5432: `serve`.
EXPOSE 9184 5432
ENTRYPOINT ["/usr/local/bin/cloudoptima"]
CMD ["run"]
