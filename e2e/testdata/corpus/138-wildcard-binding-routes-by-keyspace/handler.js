// Route events into per-region, per-kind collections of one bucket
// through a single wildcard binding.
function OnUpdate(doc, meta) {
    var target = {id: meta.id, keyspace: {scope_name: doc.region, collection_name: doc.kind}};
    var w = couchbase.upsert(store, target, {amount: doc.amount});
    var r = couchbase.get(store, target);
    var other = couchbase.get(store, {id: meta.id, keyspace: {scope_name: doc.region, collection_name: doc.kind === "orders" ? "refunds" : "orders"}});
    out[meta.id] = {
        written: w.success,
        read_back: r.success ? r.doc : null,
        in_other_collection: other.success
    };
}
