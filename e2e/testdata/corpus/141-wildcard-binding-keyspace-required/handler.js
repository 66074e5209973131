// A wildcard binding used with a meta that does not say where to go.
function OnUpdate(doc, meta) {
    var out = {};
    var tries = {
        no_keyspace: {id: meta.id},
        no_collection: {id: meta.id, keyspace: {scope_name: "s"}}
    };
    for (var k in tries) {
        try {
            couchbase.upsert(store, tries[k], doc);
            out[k] = "no error";
        } catch (e) {
            out[k] = {message: e.message, eventing_error: e instanceof EventingError};
        }
    }
    results[meta.id] = out;
}
