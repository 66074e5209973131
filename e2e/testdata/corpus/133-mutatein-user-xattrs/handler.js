// Keep processing bookkeeping out of the document body: a user xattr
// records which function version touched the document.
function OnUpdate(doc, meta) {
    var w = couchbase.mutateIn(orders, {id: doc.order}, [
        couchbase.MutateInSpec.upsert("audit", {by: "enricher", version: 3}, {xattrs: true}),
        couchbase.MutateInSpec.upsert("audit.runs", 1, {xattrs: true})
    ]);
    var r = couchbase.lookupIn(orders, {id: doc.order}, [
        couchbase.LookupInSpec.get("audit", {xattrs: true}),
        couchbase.LookupInSpec.get("audit.version", {xattrs: true}),
        couchbase.LookupInSpec.get("audit"),
        couchbase.LookupInSpec.get("total")
    ]);
    out[meta.id] = {
        write_success: w.success,
        read_success: r.success,
        xattr: r.doc[0],
        xattr_version: r.doc[1],
        body_has_audit: r.doc[2].success,
        total: r.doc[3]
    };
}
