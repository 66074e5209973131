// Cached config reads, with read-your-own-writes after the handler updates the config.
function OnUpdate(doc, meta) {
    var a = couchbase.get(cfg, {id: "config"}, {cache: true});
    var b = couchbase.get(cfg, {id: "config"}, {cache: true});
    couchbase.upsert(cfg, {id: "config"}, {rate: a.doc.rate + 1});
    var c = couchbase.get(cfg, {id: "config"}, {cache: true});
    var missing = couchbase.get(cfg, {id: "no-such-config"}, {cache: true});
    out[meta.id] = {
        a: a.doc.rate, b: b.doc.rate, c: c.doc.rate,
        same_cas: a.meta.cas === b.meta.cas,
        missing_key_not_found: !missing.success && missing.error.key_not_found === true
    };
}
