// Same rewrite without self_recursion: the handler's own upsert is suppressed.
function OnUpdate(doc, meta) {
    if (doc.stage === 1) {
        couchbase.upsert(src, {id: meta.id}, {stage: 2, value: doc.value * 10});
    } else if (doc.stage === 2) {
        done[meta.id] = {value: doc.value};
    }
}
