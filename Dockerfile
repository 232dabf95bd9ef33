# Tollgate container image: a static-stdlib release build on the official Swift image, run on
# Debian slim with only the C libraries the gateway links (libcurl, hiredis, PCRE2, OpenSSL).
#
#   docker build -t tollgate .
#   docker run --rm -p 8080:8080 tollgate                 # demo policy, built-in mock provider
#   docker compose up                                     # gateway + Redis + mock provider
FROM swift:6.2-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcurl4-openssl-dev libhiredis-dev libpcre2-dev libssl-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Package.swift ./
COPY Sources Sources
COPY Tests Tests
RUN swift build -c release --product tollgate --static-swift-stdlib \
 && install -D "$(swift build -c release --show-bin-path)/tollgate" /out/tollgate

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcurl4 libhiredis0.14 libpcre2-8-0 libssl3 libstdc++6 libffi8 zlib1g ca-certificates tzdata \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/tollgate --create-home tollgate
COPY --from=build /out/tollgate /usr/local/bin/tollgate
COPY policies /etc/tollgate/policies
USER tollgate
WORKDIR /var/lib/tollgate
EXPOSE 8080
ENTRYPOINT ["tollgate"]
# The demo policy with its mock provider in the same process; mount your own policy over
# /etc/tollgate/policies (or pass --config) for real providers.
CMD ["serve", "--config", "/etc/tollgate/policies/demo.yaml", "--with-mock-provider", "9001", "--host", "0.0.0.0", "--port", "8080", "--data-dir", "/var/lib/tollgate"]
