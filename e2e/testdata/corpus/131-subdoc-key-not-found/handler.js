// Counters on a stats document that has not been created yet.
function OnUpdate(doc, meta) {
    var m = couchbase.mutateIn(stats, {id: "stats::" + doc.day}, [
        couchbase.MutateInSpec.upsert("visits", 1)
    ]);
    var l = couchbase.lookupIn(stats, {id: "stats::" + doc.day}, [
        couchbase.LookupInSpec.get("visits")
    ]);
    out[meta.id] = {
        mutate_success: m.success,
        mutate_key_not_found: !m.success && m.error.key_not_found === true,
        lookup_success: l.success,
        lookup_key_not_found: !l.success && l.error.key_not_found === true
    };
}
