// A 6.0-era cleanup handler: deleting an absent key throws.
function OnUpdate(doc, meta) {
    var outcome;
    try {
        delete store["stale::" + meta.id];
        outcome = {threw: false};
    } catch (e) {
        outcome = {threw: true, kv_error: e instanceof KVError};
    }
    store["result::" + meta.id] = outcome;
}
