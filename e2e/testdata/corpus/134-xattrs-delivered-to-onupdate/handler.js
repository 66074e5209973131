// Stamp each document with a user xattr the first time it is seen; later
// updates by other writers keep the xattr, and OnUpdate receives it.
function OnUpdate(doc, meta, xattrs) {
    var seen = xattrs && xattrs.first_seen;
    log("update", meta.id, doc.v, xattrs);
    if (!seen) {
        couchbase.mutateIn(self, {id: meta.id}, [
            couchbase.MutateInSpec.upsert("first_seen", {v: doc.v}, {xattrs: true})
        ]);
    }
    out[meta.id + "::" + doc.v] = {xattrs: xattrs};
}
