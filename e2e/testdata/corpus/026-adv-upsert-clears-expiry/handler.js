// A cache entry is written with a TTL, then refreshed without one: the refresh makes it permanent.
function OnUpdate(doc, meta) {
    var key = "cache::" + meta.id;
    var ttl = new Date(Date.now() + 3600 * 1000);
    var first = couchbase.upsert(cache, {id: key, expiry_date: ttl}, {v: 1});
    var withTtl = couchbase.get(cache, {id: key});
    var second = couchbase.upsert(cache, {id: key}, {v: 2});
    var noTtl = couchbase.get(cache, {id: key});
    out[meta.id] = {
        first_ok: first.success,
        ttl_seen: withTtl.meta.expiry_date instanceof Date,
        ttl_seconds: withTtl.meta.expiry_date.getTime() === Math.floor(ttl.getTime() / 1000) * 1000,
        second_ok: second.success,
        ttl_cleared: noTtl.meta.expiry_date === undefined,
        v: noTtl.doc.v
    };
}
