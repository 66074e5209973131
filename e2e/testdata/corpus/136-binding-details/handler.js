// Route writes by looking at where each binding points.
function OnUpdate(doc, meta) {
    var rw = couchbase.bindingDetails(archive, meta);
    var ro = couchbase.bindingDetails(lookup, meta);
    out[meta.id] = {
        archive: {access: rw.access, scope: rw.keyspace.scope_name, collection: rw.keyspace.collection_name,
                  bucket_ok: /^c[0-9]{3}_arch$/.test(rw.keyspace.bucket_name)},
        lookup: {access: ro.access, scope: ro.keyspace.scope_name, collection: ro.keyspace.collection_name,
                 bucket_ok: /^c[0-9]{3}_ref$/.test(ro.keyspace.bucket_name)}
    };
}
