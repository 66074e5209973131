// Enrich documents in place: the handler's own write to its source must not re-trigger it.
function OnUpdate(doc, meta) {
    if (doc.normalized) return;
    doc.email = doc.email.toLowerCase();
    doc.normalized = true;
    src[meta.id] = doc;
}
