function OnUpdate(doc, meta) {
    var prev = copies[meta.id];
    copies[meta.id] = {n: doc.n, handled: prev ? prev.handled + 1 : 1};
}
