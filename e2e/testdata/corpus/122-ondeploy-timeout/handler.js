// An OnDeploy that waits for something that never happens.
function OnDeploy(action) {
    var ready = false;
    while (!ready) {
        ready = config["ready"] !== undefined && false;
    }
}

function OnUpdate(doc, meta) {
    out[meta.id] = doc;
}
