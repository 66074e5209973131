// A two-stage pipeline in one keyspace: stage 1 rewrites the document with self_recursion so
// that stage 2 runs on the rewritten version.
function OnUpdate(doc, meta) {
    if (doc.stage === 1) {
        var res = couchbase.upsert(src, {id: meta.id}, {stage: 2, value: doc.value * 10}, {self_recursion: true});
        if (!res.success) throw new Error("upsert failed");
    } else if (doc.stage === 2) {
        done[meta.id] = {value: doc.value};
    }
}
