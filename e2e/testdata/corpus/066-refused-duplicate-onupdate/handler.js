function OnUpdate(doc, meta) {
    log("first");
}

function OnUpdate(doc, meta) {
    log("second");
}
