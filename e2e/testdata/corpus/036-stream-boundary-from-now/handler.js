function OnUpdate(doc, meta) {
    copies[meta.id] = {n: doc.n};
}
