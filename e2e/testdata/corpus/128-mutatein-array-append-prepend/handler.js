// An activity feed: newest first in "recent", oldest first in "log".
function OnUpdate(doc, meta) {
    var res = couchbase.mutateIn(feeds, {id: "feed::" + doc.user}, [
        couchbase.MutateInSpec.arrayAppend("log", doc.event),
        couchbase.MutateInSpec.arrayPrepend("recent", doc.event)
    ]);
    var missing = couchbase.mutateIn(feeds, {id: "feed::" + doc.user}, [
        couchbase.MutateInSpec.arrayAppend("archive", doc.event)
    ]);
    var created = couchbase.mutateIn(feeds, {id: "feed::" + doc.user}, [
        couchbase.MutateInSpec.arrayAppend("by_id." + meta.id, doc.event, {create_path: true})
    ]);
    out[meta.id] = {
        success: res.success,
        missing_field_not_found: !missing.success && missing.error.field_not_found === true,
        created: created.success
    };
}
