function OnUpdate(doc, meta) {
    log(meta.id);
}
