// A runaway loop for one document type must not stall the function.
function OnUpdate(doc, meta) {
    if (doc.spin) {
        while (true) {}
    }
    done[meta.id] = {ok: true};
}
