// Global tally of events across four workers.
function OnUpdate(doc, meta) {
    var res = couchbase.increment(tally, {id: "events::" + doc.kind});
    if (!res.success) throw new Error(JSON.stringify(res.error));
    var total = couchbase.increment(tally, {id: "events::all"});
    if (!total.success) throw new Error(JSON.stringify(total.error));
}
