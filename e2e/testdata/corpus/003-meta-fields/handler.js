// Record what the handler learns about each mutation from meta.
function OnUpdate(doc, meta) {
    audit[meta.id] = {
        id: meta.id,
        cas_type: typeof meta.cas,
        cas_digits: /^[0-9]+$/.test(meta.cas),
        vb_type: typeof meta.vb,
        vb_integer: meta.vb === Math.floor(meta.vb) && meta.vb >= 0,
        seq_positive: typeof meta.seq === "number" && meta.seq > 0,
        expiration: meta.expiration,
        has_expiry_date: "expiry_date" in meta,
        keyspace: meta.keyspace
    };
}
