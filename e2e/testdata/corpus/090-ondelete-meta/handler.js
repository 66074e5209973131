function OnDelete(meta, options) {
    out[meta.id] = {
        id: meta.id,
        cas_digits: /^[0-9]+$/.test(meta.cas),
        keyspace: meta.keyspace,
        option_keys: Object.keys(options)
    };
}
