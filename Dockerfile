# Stores REST API image: a static Go binary on distroless, run as non-root.
#
#   docker build -t stores-api .
#   docker run --rm -p 5000:80 -e JWT_SECRET_KEY=<32+ random bytes> stores-api
#
# Without DATABASE_URL it keeps SQLite's data.db in /data (mount a volume
# there to keep it); docker-compose.yml runs it on PostgreSQL instead.

# ---- build -----------------------------------------------------------------
# The tag follows the newest Go 1.26.x release, which go.mod's "go 1.26.8"
# needs: the official image sets GOTOOLCHAIN=local, so a stale cached image
# fails with "go.mod requires go >= 1.26.8" (docker build --pull fixes it).
FROM golang:1.26 AS build
WORKDIR /src

# Dependencies first: this layer is rebuilt only when go.mod or go.sum change,
# not on every source edit.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# CGO_ENABLED=0: the SQLite driver is pure Go, so the binary is fully static
# and runs on distroless/static, which has no C library.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/stores-api .

# The working directory of the final image, where SQLite's default data.db
# is created. distroless has no shell to mkdir or chown, so it is made here.
RUN mkdir -p /out/data

# ---- run -------------------------------------------------------------------
# distroless/static: CA certificates, tzdata and /etc/passwd, nothing else
# (no shell, no package manager). The :nonroot tag runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot

COPY --from=build /out/stores-api /stores-api
COPY --from=build --chown=65532:65532 /out/data /data
WORKDIR /data
USER nonroot:nonroot

# Listen on port 80 on every interface, like the course's container. A
# non-root user may bind port 80 because Docker (since 20.10) starts
# containers with net.ipv4.ip_unprivileged_port_start=0. Where that sysctl
# is not in effect (--network host, some Kubernetes runtimes), set PORT=8080.
ENV APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=80
EXPOSE 80

# The binary probes its own GET /healthz: the image has no curl or wget.
# The probe gives up after 3s, inside Docker's 5s timeout.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["/stores-api", "healthcheck"]

# "serve" applies pending migrations, then listens. SIGTERM (docker stop)
# lets in-flight requests finish before the process exits.
ENTRYPOINT ["/stores-api"]
