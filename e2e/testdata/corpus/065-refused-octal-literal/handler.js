function OnUpdate(doc, meta) {
    var mode = 0755;
    log(mode);
}
