// User xattrs have rules of their own: the name may not start with "_"
// (system xattrs) and is shorter than 16 bytes.
function OnUpdate(doc, meta) {
    var out = {};
    var paths = {system_name: "_sync.rev", long_name: "a_very_long_xattr_name", short_name: "tag"};
    for (var k in paths) {
        try {
            var res = couchbase.mutateIn(docs, {id: doc.target}, [
                couchbase.MutateInSpec.upsert(paths[k], "v", {xattrs: true, create_path: true})
            ]);
            out[k] = res.success ? "written" : "failed";
        } catch (e) {
            out[k] = "threw";
        }
    }
    var back = couchbase.lookupIn(docs, {id: doc.target}, [couchbase.LookupInSpec.get("tag", {xattrs: true})]);
    out.tag = back.doc[0].value;
    results[meta.id] = out;
}
