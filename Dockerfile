# Build: SQLite and libpq are compiled from source by their -sys crates, so the
# builder needs only a C compiler and the runtime only CA certificates.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin captionfeed

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home /data --create-home captionfeed
COPY --from=build /src/target/release/captionfeed /usr/local/bin/captionfeed
USER captionfeed
WORKDIR /data
ENV CAPTIONFEED_BIND=0.0.0.0:8080 \
    CAPTIONFEED_DATABASE_URL=sqlite:///data/captionfeed.db
EXPOSE 8080
VOLUME ["/data"]
CMD ["captionfeed", "serve"]
