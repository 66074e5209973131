// A checkout applies several field changes at once; when one of them
// cannot be applied, none is.
function OnUpdate(doc, meta) {
    var res = couchbase.mutateIn(carts, {id: doc.cart}, [
        couchbase.MutateInSpec.upsert("status", "checked_out"),
        couchbase.MutateInSpec.arrayAppend("history", "checkout"),
        couchbase.MutateInSpec.replace(doc.must_exist, true)
    ]);
    out[meta.id] = {success: res.success, field_not_found: !res.success && res.error.field_not_found === true};
}
