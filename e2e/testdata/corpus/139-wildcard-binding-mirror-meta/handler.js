// Mirror every collection of the source bucket into the same scope and
// collection of a backup bucket: the event's own meta names the keyspace.
function OnUpdate(doc, meta) {
    var res = couchbase.upsert(mirror, meta, doc);
    if (!res.success) {
        throw new Error("mirror failed: " + JSON.stringify(res.error));
    }
}

// The event's meta carries the source document's cas, which the backup
// copy does not have: delete by id and keyspace only.
function OnDelete(meta, options) {
    couchbase.delete(mirror, {id: meta.id, keyspace: meta.keyspace});
}
