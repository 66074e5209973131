// Keep a history of deploys and resumes, e.g. to re-warm caches after a
// maintenance pause.
function OnDeploy(action) {
    var r = couchbase.increment(history, {id: "runs::" + action.reason});
    history["last"] = {
        reason: action.reason,
        delay_is_number: typeof action.delay === "number",
        delay_positive: action.delay > 0,
        run: r.doc.count
    };
}

function OnUpdate(doc, meta) {
    history["seen::" + meta.id] = {last_reason: history["last"].reason};
}
