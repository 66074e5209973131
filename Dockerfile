# eventide node image. No Go toolchain image is needed (or pullable): the
# static binary is built on the host first, and bin/rootfs holds the rest
# of the root filesystem (empty /data and /tmp, the host's CA bundle in
# /etc/ssl/certs for handlers' curl() to https). `make cluster` prepares
# both and builds the image:
#
#   make build && mkdir -p bin/rootfs/data bin/rootfs/tmp bin/rootfs/etc/ssl/certs
#   cp /etc/ssl/certs/ca-certificates.crt bin/rootfs/etc/ssl/certs/
#   docker build -t eventide:dev .
#
# Run it with the node's flags, e.g.
#   docker run -v n1:/data eventide:dev --node-id n1 --data-dir /data \
#       --bind-addr 0.0.0.0 --advertise-addr <container ip>
FROM scratch

# /data (the node's data dir), /tmp and the CA bundle, owned by the
# unprivileged user the node runs as; a named volume mounted on /data
# starts with this ownership.
COPY --chown=65532:65532 bin/rootfs/ /
COPY bin/eventide /eventide

USER 65532:65532
VOLUME ["/data"]

# cluster manager REST, query REST, eventing REST, Sync Gateway REST,
# Qinling REST, node-to-node gRPC, Raft, memberlist gossip (TCP and UDP).
EXPOSE 8091 8093 8096 4984 7070 9096 9097 7946/tcp 7946/udp

# SIGTERM (docker stop) makes the node leave the cluster gracefully.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/eventide", "serve"]
