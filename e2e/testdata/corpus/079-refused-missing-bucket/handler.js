function OnUpdate(doc, meta) {
    archive[meta.id] = doc;
}
