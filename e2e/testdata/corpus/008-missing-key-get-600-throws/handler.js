// A 6.0-era handler: reading an absent key throws.
function OnUpdate(doc, meta) {
    var outcome;
    try {
        var prefs = store["prefs::" + meta.id];
        outcome = {threw: false, value_type: typeof prefs};
    } catch (e) {
        outcome = {threw: true, kv_error: e instanceof KVError, is_error: e instanceof Error};
    }
    store["result::" + meta.id] = outcome;
}
