// Porting a handler to a wildcard binding without switching to the
// advanced accessors: map-style access cannot tell which collection.
function OnUpdate(doc, meta) {
    var out = {};
    try {
        store[meta.id] = doc;
        out.write = "no error";
    } catch (e) {
        out.write = {message: e.message, eventing_error: e instanceof EventingError};
    }
    try {
        var v = store[meta.id];
        out.read = "no error";
    } catch (e) {
        out.read = {message: e.message, eventing_error: e instanceof EventingError};
    }
    try {
        delete store[meta.id];
        out.delete = "no error";
    } catch (e) {
        out.delete = {message: e.message, eventing_error: e instanceof EventingError};
    }
    results[meta.id] = out;
}
