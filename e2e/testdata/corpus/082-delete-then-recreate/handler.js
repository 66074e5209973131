// Track the lifecycle of each key in order: created, deleted, created again.
function OnUpdate(doc, meta) {
    var h = history[meta.id] || {events: []};
    h.events.push("update:" + doc.v);
    history[meta.id] = h;
}

function OnDelete(meta, options) {
    var h = history[meta.id] || {events: []};
    h.events.push("delete");
    history[meta.id] = h;
}
