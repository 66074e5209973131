function onUpdate(doc, meta) {
    log("wrong case: never called");
}
