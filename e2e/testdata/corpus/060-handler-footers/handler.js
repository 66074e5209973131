// Uses a helper the operator appends through handler_footers.
function OnUpdate(doc, meta) {
    out[meta.id] = {price: withVat(doc.net)};
}
