// Strip personal data from a profile: remove the fields, and report the
// ones that were already gone.
function OnUpdate(doc, meta) {
    var out = {};
    doc.fields.forEach(function(path) {
        var res = couchbase.mutateIn(profiles, {id: doc.profile}, [couchbase.MutateInSpec.remove(path)]);
        out[path.replace(".", "_")] = res.success ? "removed" : (res.error.field_not_found ? "field_not_found" : "other");
    });
    report[meta.id] = out;
}
