// A basic-accessor write of a document that had a TTL makes it permanent.
function OnUpdate(doc, meta) {
    var key = "entry::" + meta.id;
    couchbase.upsert(store, {id: key, expiry_date: new Date(Date.now() + 3600 * 1000)}, {v: 1});
    var before = couchbase.get(store, {id: key});
    store[key] = {v: 2};
    var after = couchbase.get(store, {id: key});
    store[meta.id] = {had_expiry: before.meta.expiry_date instanceof Date, expiry_after: after.meta.expiry_date === undefined ? "none" : "kept"};
}
