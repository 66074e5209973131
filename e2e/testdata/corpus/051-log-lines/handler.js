// Operational logging from a handler.
function OnUpdate(doc, meta) {
    log("processing", meta.id, {qty: doc.qty}, doc.qty, true, null);
    if (doc.qty > 10) {
        log("bulk order", meta.id);
    }
    log(new Error("not thrown, just logged"));
}
