# nodemend's image: built with the Rust toolchain, run on distroless (glibc, CA certificates,
# no shell, user 65532). Images are not built on the project's machines; see docs/install.md.
#   docker build -t ghcr.io/nodemend/nodemend:0.1.0 .
FROM rust:1.89-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin nodemend

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /src/target/release/nodemend /usr/local/bin/nodemend
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/nodemend"]
CMD ["run"]
