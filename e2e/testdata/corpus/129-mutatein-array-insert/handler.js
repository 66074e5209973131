// Insert a stop into a route at a given position.
function OnUpdate(doc, meta) {
    var res = couchbase.mutateIn(routes, {id: doc.route}, [
        couchbase.MutateInSpec.arrayInsert("stops[" + doc.at + "]", doc.stop)
    ]);
    out[meta.id] = {
        success: res.success,
        field_not_found: !res.success && res.error.field_not_found === true
    };
}
