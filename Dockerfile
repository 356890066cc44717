# syntax=docker/dockerfile:1
# Build: a release binary with templates, static files and migrations compiled in.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock build.rs ./
COPY src src
COPY templates templates
COPY static static
COPY migrations migrations
# Compiled in too: the definitions page (docs/metrics.md) and the PDF fonts (assets/fonts). The
# benchmark is a target the manifest declares, so cargo reads it even when not building it.
COPY docs docs
COPY assets assets
COPY benches benches
RUN cargo build --release --locked && strip target/release/tidemark && mkdir -p /data


# Run: the binary alone on a distroless base (glibc and CA certificates, no shell), as a
# non-root user. It links neither libpq nor OpenSSL and writes only to TIDEMARK_DATA_DIR
# (uploaded media waiting to be published, a volume), so the root filesystem can be read-only.
FROM gcr.io/distroless/cc-debian12:nonroot
LABEL org.opencontainers.image.title="Tidemark" \
      org.opencontainers.image.description="Self-hosted Instagram analytics: a faithful history of every post's metrics" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later" \
      org.opencontainers.image.source="https://example.invalid/tidemark"
COPY --from=build /src/target/release/tidemark /usr/local/bin/tidemark
COPY --from=build --chown=nonroot:nonroot /data /var/lib/tidemark
USER nonroot:nonroot
ENV TIDEMARK_BIND=0.0.0.0:8080 \
    TIDEMARK_LOG_FORMAT=json \
    TIDEMARK_DATA_DIR=/var/lib/tidemark
VOLUME /var/lib/tidemark
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["/usr/local/bin/tidemark", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/tidemark"]
CMD ["serve"]
