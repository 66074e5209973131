// A read-only reference binding cannot be patched with mutateIn, while
// lookupIn reads it fine.
function OnUpdate(doc, meta) {
    var out = {};
    try {
        couchbase.mutateIn(catalog, {id: doc.sku}, [couchbase.MutateInSpec.upsert("seen", true)]);
        out.mutate = "no error";
    } catch (e) {
        out.mutate = {message: e.message, eventing_error: e instanceof EventingError};
    }
    var r = couchbase.lookupIn(catalog, {id: doc.sku}, [couchbase.LookupInSpec.get("price")]);
    out.price = r.doc[0].value;
    results[meta.id] = out;
}
