// A tempting "cache" in a global: the handler must not rely on state
// surviving from one event to the next.
function OnUpdate(doc, meta) {
    var before = typeof globalThis.lastSeen;
    var threw = false;
    try {
        globalThis.lastSeen = meta.id;
    } catch (e) {
        threw = e instanceof TypeError;
    }
    out[meta.id] = {before: before, assignment_threw: threw};
}
