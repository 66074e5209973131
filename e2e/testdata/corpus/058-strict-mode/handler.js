// A typo'd variable name: strict mode turns the silent global into an error.
function OnUpdate(doc, meta) {
    var total = 0;
    try {
        totl = doc.a + doc.b;
        out[meta.id] = {threw: false};
    } catch (e) {
        out[meta.id] = {threw: true, reference_error: e instanceof ReferenceError};
    }
}
