// Archive orders with a parameterised N1QL() call.
function OnUpdate(doc, meta) {
    if (doc.type !== "order") return;
    var res = N1QL("UPSERT INTO `{{bucket:archive}}` (KEY, VALUE) VALUES ($1, $2)", [meta.id, doc],
                   {consistency: "request"});
    res.close();
}
