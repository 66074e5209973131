// Deleting through the read-only source binding is refused.
function OnUpdate(doc, meta) {
    try {
        delete src[meta.id];
        out[meta.id] = {threw: false};
    } catch (e) {
        out[meta.id] = {threw: true, eventing_error: e instanceof EventingError, message: e.message};
    }
}
