# syntax=docker/dockerfile:1
# Build: a release binary with templates, static files and migrations compiled in.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY templates templates
COPY static static
COPY migrations migrations
RUN cargo build --release --locked && strip target/release/tidemark

# Run: the binary alone, as a non-root user. It needs no libpq and writes nothing to disk,
# so the root filesystem can be read-only.
FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --no-create-home tidemark
COPY --from=build /src/target/release/tidemark /usr/local/bin/tidemark
USER tidemark
ENV TIDEMARK_BIND=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/tidemark"]
CMD ["serve"]
