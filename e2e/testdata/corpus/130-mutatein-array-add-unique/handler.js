// Tag a post; adding a tag it already has is reported, not duplicated.
function OnUpdate(doc, meta) {
    var res = couchbase.mutateIn(posts, {id: doc.post}, [
        couchbase.MutateInSpec.arrayAddUnique("tags", doc.tag)
    ]);
    out[meta.id] = {
        success: res.success,
        field_already_exists: !res.success && res.error.field_already_exists === true
    };
}
