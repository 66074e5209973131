// Record the first time a customer was seen: insert only adds a field
// that is not there yet.
function OnUpdate(doc, meta) {
    var id = {id: "cust::" + doc.customer};
    var first = couchbase.mutateIn(customers, id, [
        couchbase.MutateInSpec.insert("first_order", meta.id)
    ]);
    var nested = couchbase.mutateIn(customers, id, [
        couchbase.MutateInSpec.insert("stats.orders", 1, {create_path: true})
    ]);
    out[meta.id] = {
        success: first.success,
        field_already_exists: !first.success && first.error.field_already_exists === true,
        nested_success: nested.success,
        nested_field_already_exists: !nested.success && nested.error.field_already_exists === true
    };
}
