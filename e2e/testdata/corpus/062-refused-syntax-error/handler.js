function OnUpdate(doc, meta) {
    var total = doc.a +;
    log(total);
}
