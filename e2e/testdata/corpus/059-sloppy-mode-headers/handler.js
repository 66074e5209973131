// Legacy handler written for sloppy mode (handler_headers emptied).
function OnUpdate(doc, meta) {
    total = doc.a + doc.b;
    out[meta.id] = {total: total};
}
