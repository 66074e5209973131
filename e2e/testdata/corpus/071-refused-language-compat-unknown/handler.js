function OnUpdate(doc, meta) {
    log("never deployed", meta.id);
}
