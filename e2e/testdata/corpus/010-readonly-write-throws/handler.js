// The catalog binding is read-only; an accidental write must fail loudly.
function OnUpdate(doc, meta) {
    try {
        catalog[meta.id] = {touched: true};
        out[meta.id] = {threw: false};
    } catch (e) {
        out[meta.id] = {threw: true, eventing_error: e instanceof EventingError, message: e.message};
    }
}
