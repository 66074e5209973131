// Page-view counters: up for views, down for unviews.
function OnUpdate(doc, meta) {
    var key = {id: "views::" + doc.page};
    var res = doc.kind === "unview" ? couchbase.decrement(counters, key) : couchbase.increment(counters, key);
    if (!res.success) throw new Error("counter failed: " + JSON.stringify(res.error));
    history[meta.id] = {after: res.doc.count};
}
